using Microsoft.ML;

namespace Vlm2Vec.ML;

/// <summary>
/// The form a Vlm2Vec embedding transformer takes in a saved ML.NET model, built from public ML.NET transforms only
/// (ML.NET 5 keeps the loader registration of custom transformers internal; <c>CustomMapping</c> is the public route):
/// <list type="number">
/// <item><see cref="ModelKeyMapping"/> adds a constant key and empty stand-in columns;</item>
/// <item><c>MapValue</c> maps the key to the settings JSON (<see cref="EmbeddingSpec"/>): this is where the model
/// folder, the engine and the column semantics are stored in the zip;</item>
/// <item><c>CopyColumns</c> gives the user's columns (or the stand-ins) the names the embedding step reads;</item>
/// <item><see cref="EmbeddingMapping"/> embeds each row into fixed-size chunk columns (<see cref="ChunkLayout"/>);</item>
/// <item><c>Concatenate</c> joins the chunks into the output <c>Vector&lt;Single, D&gt;</c>;</item>
/// <item><c>DropColumns</c> removes every working column.</item>
/// </list>
/// Loaded with <c>mlContext.Model.Load</c>, it is a plain <c>TransformerChain</c> that embeds row by row and needs
/// nothing from the process that saved it.
/// </summary>
internal static class SaveableChain
{
    public static IEstimator<ITransformer> Create(TransformsCatalog transforms, EmbeddingSpec spec, string specJson)
    {
        var layout = ChunkLayout.For(spec.Dimension);
        var chunkColumns = new string[layout.Length];
        for (var i = 0; i < layout.Length; i++)
        {
            chunkColumns[i] = ColumnNames.Chunk(layout[i]);
        }

        var dropped = new List<string>
        {
            ColumnNames.ModelKey, ColumnNames.EmptyText, ColumnNames.EmptyBytes, ColumnNames.Spec,
            ColumnNames.ImageBytes, ColumnNames.ImagePath, ColumnNames.Text, ColumnNames.Instruction,
        };
        for (var size = ChunkLayout.LargestChunk; size >= 1; size >>= 1)
        {
            dropped.Add(ColumnNames.Chunk(size));
        }

        return transforms.CustomMapping<ModelKeyMapping.Input, ModelKeyMapping.Output>(ModelKeyMapping.Map, ModelKeyMapping.ContractName)
            .Append(transforms.Conversion.MapValue(ColumnNames.Spec, [new KeyValuePair<int, string>(ModelKeyMapping.Key, specJson)], ColumnNames.ModelKey))
            .Append(transforms.CopyColumns(ColumnNames.ImageBytes, spec.Image == ImageSourceKind.EncodedBytes ? spec.ImageColumn! : ColumnNames.EmptyBytes))
            .Append(transforms.CopyColumns(ColumnNames.ImagePath, spec.Image == ImageSourceKind.FilePath ? spec.ImageColumn! : ColumnNames.EmptyText))
            .Append(transforms.CopyColumns(ColumnNames.Text, spec.TextColumn ?? ColumnNames.EmptyText))
            .Append(transforms.CopyColumns(ColumnNames.Instruction, spec.InstructionColumn ?? ColumnNames.EmptyText))
            .Append(transforms.CustomMapping<EmbeddingMapping.Input, EmbeddingChunks>(EmbeddingMapping.Map, EmbeddingMapping.ContractName))
            .Append(transforms.Concatenate(spec.OutputColumn, chunkColumns))
            .Append(transforms.DropColumns([.. dropped]));
    }
}
