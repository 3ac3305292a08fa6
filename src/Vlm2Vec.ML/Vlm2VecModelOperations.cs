using Microsoft.ML;

namespace Vlm2Vec.ML;

/// <summary>
/// Loading saved models that contain Vlm2Vec embedding steps with their batching restored:
/// <c>mlContext.Model.LoadWithVlm2Vec(path, out schema)</c>.
/// </summary>
/// <remarks>
/// A plain <c>mlContext.Model.Load</c> works too and gives the same vectors, but the Vlm2Vec steps then embed one row per
/// model call (ML.NET rebuilds them from public transforms) and their warnings go to <c>System.Diagnostics.Trace</c>.
/// <c>LoadWithVlm2Vec</c> loads the same file and replaces each of those steps by a
/// <see cref="Vlm2VecEmbeddingTransformer"/>, whose cursors embed in batches and which logs to this <c>MLContext</c>;
/// the result saves back to the same form.
/// </remarks>
public static class Vlm2VecModelOperations
{
    /// <summary>Loads a model file, restoring batched embedding in its Vlm2Vec steps.</summary>
    public static ITransformer LoadWithVlm2Vec(this ModelOperationsCatalog catalog, string filePath, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var loaded = catalog.Load(filePath, out inputSchema);
        return SavedFormBinder.Bind(HostEnvironments.Of(catalog).Register("Vlm2VecEmbedding"), loaded);
    }

    /// <summary>Loads a model from a stream, restoring batched embedding in its Vlm2Vec steps.</summary>
    public static ITransformer LoadWithVlm2Vec(this ModelOperationsCatalog catalog, Stream stream, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var loaded = catalog.Load(stream, out inputSchema);
        return SavedFormBinder.Bind(HostEnvironments.Of(catalog).Register("Vlm2VecEmbedding"), loaded);
    }
}
