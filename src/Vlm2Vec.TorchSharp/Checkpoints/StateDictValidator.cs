using System.Text;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Checkpoints;

/// <summary>
/// Compares the tensors a checkpoint provides with the tensors a module expects, and reports every difference at once.
/// </summary>
public static class StateDictValidator
{
    /// <summary>The names and shapes of a module's parameters and persistent buffers (its <c>state_dict</c>).</summary>
    public static Dictionary<string, long[]> ExpectedShapes(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var (name, tensor) in module.state_dict())
        {
            shapes[name] = tensor.shape;
        }

        return shapes;
    }

    /// <summary>Validates an in-memory state dict against a module.</summary>
    /// <exception cref="ModelFormatException">One exception naming every missing, unexpected and mis-shaped tensor.</exception>
    public static void Validate(IReadOnlyDictionary<string, Tensor> stateDict, nn.Module module, StateDictValidationOptions? options = null, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        var actual = new Dictionary<string, long[]>(stateDict.Count, StringComparer.Ordinal);
        foreach (var (name, tensor) in stateDict)
        {
            actual[name] = tensor.shape;
        }

        Validate(actual, ExpectedShapes(module), options, source);
    }

    /// <summary>Validates provided names and shapes against expected ones.</summary>
    /// <exception cref="ModelFormatException">One exception naming every missing, unexpected and mis-shaped tensor.</exception>
    public static void Validate(
        IReadOnlyDictionary<string, long[]> actualShapes,
        IReadOnlyDictionary<string, long[]> expectedShapes,
        StateDictValidationOptions? options = null,
        string? source = null)
    {
        var problems = Compare(actualShapes, expectedShapes, options ?? new StateDictValidationOptions());
        if (problems is not null)
        {
            throw new ModelFormatException(problems.Describe(source));
        }
    }

    /// <summary>The differences, or null when the state dict fits.</summary>
    internal static StateDictMismatch? Compare(
        IReadOnlyDictionary<string, long[]> actualShapes,
        IReadOnlyDictionary<string, long[]> expectedShapes,
        StateDictValidationOptions options)
    {
        ArgumentNullException.ThrowIfNull(actualShapes);
        ArgumentNullException.ThrowIfNull(expectedShapes);

        bool Considered(string name) =>
            (options.IncludeTensor is null || options.IncludeTensor(name))
            && !(options.SkipLanguageModelHead && WeightNames.IsLanguageModelHead(name));

        var mismatch = new StateDictMismatch();
        foreach (var (name, expected) in expectedShapes.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!Considered(name))
            {
                continue;
            }

            if (!actualShapes.TryGetValue(name, out var actual))
            {
                var tiedHead = name == WeightNames.LanguageModelHeadWeight && options.TieWordEmbeddings;
                if (!tiedHead)
                {
                    mismatch.Missing.Add((name, expected));
                }
            }
            else if (!actual.AsSpan().SequenceEqual(expected))
            {
                mismatch.WrongShape.Add((name, actual, expected));
            }
        }

        foreach (var (name, actual) in actualShapes.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (Considered(name) && !expectedShapes.ContainsKey(name))
            {
                mismatch.Unexpected.Add((name, actual));
            }
        }

        return mismatch.IsEmpty ? null : mismatch;
    }

    internal static string FormatShape(IReadOnlyList<long> shape) => "[" + string.Join(", ", shape) + "]";

    /// <summary>The differences between a state dict and a module.</summary>
    internal sealed class StateDictMismatch
    {
        public List<(string Name, long[] Expected)> Missing { get; } = [];

        public List<(string Name, long[] Actual)> Unexpected { get; } = [];

        public List<(string Name, long[] Actual, long[] Expected)> WrongShape { get; } = [];

        public bool IsEmpty => Missing.Count == 0 && Unexpected.Count == 0 && WrongShape.Count == 0;

        public string Describe(string? source)
        {
            var text = new StringBuilder();
            text.Append("The weights").Append(source is null ? string.Empty : $" from '{source}'").Append(" do not fit the model: ")
                .Append(Missing.Count).Append(" missing, ")
                .Append(Unexpected.Count).Append(" unexpected, ")
                .Append(WrongShape.Count).Append(" with the wrong shape.");
            foreach (var (name, expected) in Missing)
            {
                text.Append("\n  missing: ").Append(name).Append(' ').Append(FormatShape(expected));
            }

            foreach (var (name, actual) in Unexpected)
            {
                text.Append("\n  unexpected: ").Append(name).Append(' ').Append(FormatShape(actual));
            }

            foreach (var (name, actual, expected) in WrongShape)
            {
                text.Append("\n  wrong shape: ").Append(name).Append(" is ").Append(FormatShape(actual))
                    .Append(" in the checkpoint; the model expects ").Append(FormatShape(expected));
            }

            return text.ToString();
        }
    }
}
