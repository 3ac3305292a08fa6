using Vlm2Vec.Core.Tests.Facade;
using Vlm2Vec.Evaluation;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Core.Tests.Evaluation;

/// <summary>Paths and helpers for the evaluation tests: shared/data's derived MMEB files and the real tokenizer.</summary>
internal static class EvalTestData
{
    public static string DerivedFolder => SharedData.Path("mmeb", "derived");

    public static string Derived(string name) => SharedData.Path("mmeb", "derived", name + ".jsonl");

    /// <summary>Load options for the derived files: their image paths are relative to shared/data.</summary>
    public static MmebDataLoadOptions Options(int? limit = null) => new() { ImageRoot = SharedData.DataRoot, RowLimit = limit };

    public static Task<MmebEvalDataset> LoadAsync(string name, int? limit = null) => MmebDataLoader.LoadFileAsync(Derived(name), Options(limit));

    /// <summary>The real Qwen2-VL tokenizer and config with the file-digest image stage.</summary>
    public static Vlm2VecPreprocessor Preprocessor(FileDigestImagePipeline? images = null) =>
        new(FacadeData.Config, FacadeData.Tokenizer, images ?? new FileDigestImagePipeline(), null, null);

    public static string Fixture(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "Evaluation", "Fixtures", .. parts]);
}
