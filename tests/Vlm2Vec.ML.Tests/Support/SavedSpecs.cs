using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace Vlm2Vec.ML.Tests.Support;

/// <summary>Reads the Vlm2Vec settings back out of a loaded model: runs each saved form's first two steps (the key and
/// the MapValue that holds the settings) on a one-row view and reads the settings column.</summary>
internal static class SavedSpecs
{
    public static List<EmbeddingSpec> Read(MLContext ml, ITransformer loaded)
    {
        var specs = new List<EmbeddingSpec>();
        Visit(ml, loaded, specs);
        return specs;
    }

    private static void Visit(MLContext ml, ITransformer transformer, List<EmbeddingSpec> specs)
    {
        if (transformer is not IEnumerable<ITransformer> chain)
        {
            return;
        }

        var steps = chain.ToList();
        if (steps.Count >= 2 && steps[0] is CustomMappingTransformer<ModelKeyMapping.Input, ModelKeyMapping.Output> && steps[1] is ValueMappingTransformer)
        {
            var oneRow = ml.Data.LoadFromEnumerable(new[] { new Empty() });
            var withSpec = steps[1].Transform(steps[0].Transform(oneRow));
            specs.Add(EmbeddingSpec.Parse(withSpec.GetColumn<string>(ColumnNames.Spec).Single()));
            return;
        }

        foreach (var step in steps)
        {
            Visit(ml, step, specs);
        }
    }

    private sealed class Empty
    {
        public float Unused { get; set; }
    }
}
