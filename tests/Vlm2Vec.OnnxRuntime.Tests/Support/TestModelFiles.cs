namespace Vlm2Vec.OnnxRuntime.Tests.Support;

/// <summary>The tokenizer/processor files of <see cref="Vlm2Vec.TestSupport.TinyModelFiles"/> for a parsed config.</summary>
internal static class TestModelFiles
{
    public static string WriteTokenizerFolder(string folder, Qwen2VlConfig config, int padTokenId) =>
        Vlm2Vec.TestSupport.TinyModelFiles.WriteTokenizerFolder(folder, config.VocabSize, padTokenId, config.VisionStartTokenId, config.VisionEndTokenId, config.VisionTokenId, config.ImageTokenId, config.VideoTokenId);
}
