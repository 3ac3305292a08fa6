using Vlm2Vec.Preprocessing;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Core.Tests.Text;

/// <summary>The real Qwen2-VL tokenizer from shared/data, loaded once for all tests (loading takes a few hundred ms).</summary>
internal static class SharedQwen2Tokenizer
{
    private static readonly Lazy<Qwen2Tokenizer> Loaded = new(() => Qwen2Tokenizer.FromFolder(SharedData.Qwen2VlTokenizerFolder));

    public static Qwen2Tokenizer Instance => Loaded.Value;

    public static string Folder => SharedData.Qwen2VlTokenizerFolder;
}
