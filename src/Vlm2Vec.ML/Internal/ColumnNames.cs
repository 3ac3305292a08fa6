namespace Vlm2Vec.ML;

/// <summary>Names of the working columns of the saved form (<see cref="SaveableChain"/>); all are dropped at its end.</summary>
internal static class ColumnNames
{
    public const string Prefix = "__vlm2vec_";
    public const string ModelKey = Prefix + "model_key";
    public const string EmptyText = Prefix + "empty_text";
    public const string EmptyBytes = Prefix + "empty_bytes";
    public const string Spec = Prefix + "spec";
    public const string ImageBytes = Prefix + "image_bytes";
    public const string ImagePath = Prefix + "image_path";
    public const string Text = Prefix + "text";
    public const string Instruction = Prefix + "instruction";

    public static string Chunk(int size) => Prefix + "chunk_" + size.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
