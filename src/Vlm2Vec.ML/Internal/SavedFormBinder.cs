using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms;

namespace Vlm2Vec.ML;

/// <summary>
/// Finds the saved form of Vlm2Vec embedding transformers (<see cref="SaveableChain"/>) in a loaded model and puts a
/// live, batching <see cref="Vlm2VecEmbeddingTransformer"/> around each, reading its settings back from the form's
/// <c>MapValue</c> step. Everything else, including the chains' transformer scopes, is kept as loaded.
/// </summary>
internal static class SavedFormBinder
{
    private static readonly TransformerScope[] ScopeFlags = [TransformerScope.Training, TransformerScope.Testing, TransformerScope.Scoring];

    public static ITransformer Bind(IHost host, ITransformer loaded) => BindAny(host, loaded, out _);

    private static ITransformer BindAny(IHost host, ITransformer transformer, out bool changed)
    {
        changed = false;
        if (transformer is not TransformerChain<ITransformer> chain)
        {
            return transformer;
        }

        var steps = chain.ToList();
        if (IsSavedForm(steps))
        {
            changed = true;
            var json = ReadSpecJson(steps);
            var spec = EmbeddingSpec.Parse(json);
            return new Vlm2VecEmbeddingTransformer(host, spec, json, chain, null, null, Math.Max(1, spec.BatchSize), null);
        }

        var rebound = new ITransformer[steps.Count];
        for (var i = 0; i < steps.Count; i++)
        {
            rebound[i] = BindAny(host, steps[i], out var stepChanged);
            changed |= stepChanged;
        }

        return changed ? new TransformerChain<ITransformer>(rebound, Scopes(chain, steps)) : transformer;
    }

    private static bool IsSavedForm(List<ITransformer> steps) =>
        steps.Count >= 2
        && steps[0] is CustomMappingTransformer<ModelKeyMapping.Input, ModelKeyMapping.Output>
        && steps[1] is ValueMappingTransformer;

    /// <summary>Runs the form's first two steps on a one-row view and reads the settings column.</summary>
    private static string ReadSpecJson(List<ITransformer> steps)
    {
        var probe = new MLContext().Data.LoadFromEnumerable(new[] { new Probe() });
        var withSpec = steps[1].Transform(steps[0].Transform(probe));
        using var cursor = withSpec.GetRowCursor([withSpec.Schema[ColumnNames.Spec]]);
        var getter = cursor.GetGetter<ReadOnlyMemory<char>>(withSpec.Schema[ColumnNames.Spec]);
        ReadOnlyMemory<char> value = default;
        if (!cursor.MoveNext())
        {
            throw new ModelFormatException("The Vlm2Vec settings of the loaded model could not be read.");
        }

        getter(ref value);
        return value.ToString();
    }

    /// <summary>Each step's scope, recovered through the public <c>GetModelFor</c> (the scopes themselves are internal).</summary>
    private static TransformerScope[] Scopes(TransformerChain<ITransformer> chain, List<ITransformer> steps)
    {
        var scopes = new TransformerScope[steps.Count];
        foreach (var flag in ScopeFlags)
        {
            var members = chain.GetModelFor(flag).ToList();
            for (var i = 0; i < steps.Count; i++)
            {
                if (members.Exists(m => ReferenceEquals(m, steps[i])))
                {
                    scopes[i] |= flag;
                }
            }
        }

        return scopes;
    }

    private sealed class Probe
    {
        public float Unused { get; set; }
    }
}
