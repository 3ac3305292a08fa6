namespace Vlm2Vec.Extensions.AI;

/// <summary>Picks the engine that opens a model: the one named by the options, else the first that says it can.</summary>
internal static class EncoderFactorySelector
{
    public static IVlm2VecEncoderFactory Select(IEnumerable<IVlm2VecEncoderFactory> factories, Vlm2VecEmbeddingGeneratorOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.ModelPath))
        {
            throw new ArgumentException(
                "Vlm2VecEmbeddingGeneratorOptions.ModelPath is not set: give the model folder (or set the 'ModelPath' key of the configuration section).",
                nameof(options));
        }

        var all = factories.ToList();
        var names = all.Count == 0 ? "none" : string.Join(", ", all.Select(f => f.Engine));
        if (!string.IsNullOrEmpty(options.Engine))
        {
            return all.FirstOrDefault(f => string.Equals(f.Engine, options.Engine, StringComparison.OrdinalIgnoreCase))
                ?? throw new InvalidOperationException(
                    $"Engine '{options.Engine}' is not registered (registered engines: {names}). Reference the engine's package and register it " +
                    "(for example services.AddVlm2VecOnnxRuntime()), or leave Engine empty to use the first engine that can open the model.");
        }

        return all.FirstOrDefault(f => f.CanOpen(options.ModelPath))
            ?? throw new InvalidOperationException(
                $"No registered engine can open the model at '{options.ModelPath}' (registered engines: {names}). Check the path, or reference and " +
                "register an engine that reads this model (Vlm2Vec.OnnxRuntime reads model bundles with a vlm2vec.json manifest).");
    }
}
