using Microsoft.Extensions.Logging;
using Vlm2Vec.Preprocessing;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Core.Tests.Facade;

/// <summary>The real Qwen2-VL tokenizer and config from shared/data, loaded once for the facade tests.</summary>
internal static class FacadeData
{
    private static readonly Lazy<Qwen2Tokenizer> LazyTokenizer = new(() => Qwen2Tokenizer.FromFolder(SharedData.Qwen2VlTokenizerFolder));
    private static readonly Lazy<Qwen2VlConfig> LazyConfig = new(() => Qwen2VlConfig.Load(Path.Combine(SharedData.Qwen2VlTokenizerFolder, "config.json")));

    public static Qwen2Tokenizer Tokenizer => LazyTokenizer.Value;

    public static Qwen2VlConfig Config => LazyConfig.Value;

    /// <summary>A preprocessor on the real tokenizer with the fake image stage.</summary>
    public static Vlm2VecPreprocessor WithFakeImages(FakeImagePipeline? images = null, PreprocessorOptions? options = null, ILogger? logger = null) =>
        new(Config, Tokenizer, images ?? new FakeImagePipeline(), options, logger);
}
