using Vlm2Vec.Server.Tests.Fakes;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Server.Tests;

/// <summary>The real Qwen2-VL preprocessing from shared/data with the hashing encoder, and expected vectors computed offline.</summary>
internal static class TestModel
{
    public const int Dimension = 64;
    public const string Name = "vlm2vec-test";

    private static readonly Lazy<Vlm2VecPreprocessor> LazyPreprocessor = new(() => Vlm2VecPreprocessor.FromFolder(SharedData.Qwen2VlTokenizerFolder));

    public static Vlm2VecPreprocessor Preprocessor => LazyPreprocessor.Value;

    public static HashingEncoder Encoder(TimeSpan? batchLatency = null, long? poisonTokenId = null) => new(Preprocessor, Dimension, Name)
    {
        BatchLatency = batchLatency ?? TimeSpan.Zero,
        PoisonTokenId = poisonTokenId,
    };

    /// <summary>The vector the server must return for <paramref name="input"/>: prepared and encoded alone, offline.</summary>
    public static float[] Expected(MultimodalInput input)
    {
        var prepared = Preprocessor.Prepare(input);
        return HashingEncoder.Hash(Preprocessor.Collate([prepared]), Dimension)[0];
    }

    /// <summary>Tokens of <paramref name="input"/> after placeholder expansion (the server's usage count).</summary>
    public static int Tokens(MultimodalInput input) => Preprocessor.Prepare(input).Length;

    public static byte[] ImageBytes(string name) => File.ReadAllBytes(ImagePath(name));

    public static string ImagePath(string name) => name switch
    {
        "hopper" => SharedData.Path("images", "robustness", "hopper.png"),
        "accordion" => SharedData.Path("classification", "caltech101-test10", "images", "accordion", "image_0001.jpg"),
        "demo" => Directory.EnumerateFiles(SharedData.Path("mmeb", "vlm2vec-demo"), "*.jpg").First(),
        _ => throw new ArgumentException(name),
    };

    public static string DataUrl(string name) =>
        (name == "hopper" ? "data:image/png;base64," : "data:image/jpeg;base64,") + Convert.ToBase64String(ImageBytes(name));
}
