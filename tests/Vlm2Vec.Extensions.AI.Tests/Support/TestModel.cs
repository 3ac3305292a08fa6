using Microsoft.Extensions.AI;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Extensions.AI.Tests.Support;

/// <summary>The real Qwen2-VL preprocessing from shared/data (tokenizer, config, image processor) and test images.</summary>
internal static class TestModel
{
    /// <summary>Small image budget (at most 64 image tokens) to keep tests fast.</summary>
    public static readonly PreprocessorOptions Preprocessing = new()
    {
        ImageProcessor = new global::Vlm2Vec.Preprocessing.Qwen2VlImageProcessorOptions { MaxPixels = 64 * 28 * 28 },
    };

    private static readonly Lazy<global::Vlm2Vec.Preprocessing.Qwen2Tokenizer> LazyTokenizer = new(() => global::Vlm2Vec.Preprocessing.Qwen2Tokenizer.FromFolder(SharedData.Qwen2VlTokenizerFolder));
    private static readonly Lazy<Qwen2VlConfig> LazyConfig = new(() => Qwen2VlConfig.Load(Path.Combine(SharedData.Qwen2VlTokenizerFolder, "config.json")));
    private static readonly Lazy<global::Vlm2Vec.Preprocessing.ImageProcessorConfig> LazyImageConfig = new(() => global::Vlm2Vec.Preprocessing.ImageProcessorConfig.FromModelFolder(SharedData.Qwen2VlTokenizerFolder));
    private static readonly Lazy<Vlm2VecPreprocessor> LazyPreprocessor = new(() => NewPreprocessor(Preprocessing));

    public static Vlm2VecPreprocessor Preprocessor => LazyPreprocessor.Value;

    /// <summary>The real Qwen2-VL preprocessing with other options (the tokenizer is loaded once).</summary>
    public static Vlm2VecPreprocessor NewPreprocessor(PreprocessorOptions options) => new(LazyConfig.Value, LazyTokenizer.Value, LazyImageConfig.Value, options);

    public static HashingEncoder NewEncoder(string modelId = "hashing-test-model") => new(Preprocessor, modelId);

    public static Vlm2VecEmbeddingGenerator NewGenerator(out HashingEncoder encoder, Vlm2VecEmbeddingGeneratorOptions? options = null)
    {
        encoder = NewEncoder();
        return new Vlm2VecEmbeddingGenerator(encoder, options, ownsEncoder: true);
    }

    /// <summary>The first image of a Caltech-101 class (e.g. "dalmatian", "pizza").</summary>
    public static string ImagePath(string caltechClass, int index = 0) =>
        Directory.GetFiles(SharedData.Path("classification", "caltech101-test10", "images", caltechClass), "*.jpg").Order(StringComparer.Ordinal).ElementAt(index);

    public static DataContent ImageData(string caltechClass, int index = 0) =>
        new(File.ReadAllBytes(ImagePath(caltechClass, index)), "image/jpeg") { Name = caltechClass };

    public static UriContent ImageUri(string caltechClass, int index = 0) => new(new Uri(ImagePath(caltechClass, index)), "image/jpeg");

    /// <summary>Bytes that claim to be a PNG but are not an image.</summary>
    public static DataContent CorruptImage() => new("this is not an image"u8.ToArray(), "image/png") { Name = "corrupt.png" };

    public static float[] Vector(Embedding<float> embedding) => embedding.Vector.ToArray();

    public static double Cosine(ReadOnlyMemory<float> a, ReadOnlyMemory<float> b) =>
        System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(a.Span, b.Span);
}
