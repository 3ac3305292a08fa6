using System.Collections.Concurrent;

namespace Vlm2Vec.Extensions.AI.Tests.Support;

/// <summary>
/// An engine for dependency-injection tests: opens a "model" folder that holds a file named <c>hashing-model</c> whose
/// content is the model id, with the shared Qwen2-VL preprocessing built from the options it is given.
/// </summary>
internal sealed class TestEncoderFactory(string engine = "hashing") : IVlm2VecEncoderFactory
{
    public const string MarkerFile = "hashing-model";

    public string Engine { get; } = engine;

    public ConcurrentQueue<Vlm2VecEncoderOptions> Requests { get; } = new();

    public ConcurrentQueue<HashingEncoder> Created { get; } = new();

    public static string CreateModelFolder(TestSupport.TempFolder folder, string modelId)
    {
        var path = folder.Combine(modelId);
        Directory.CreateDirectory(path);
        File.WriteAllText(Path.Combine(path, MarkerFile), modelId);
        return path;
    }

    public bool CanOpen(string modelPath) => File.Exists(Path.Combine(modelPath, MarkerFile));

    public IVlm2VecEncoder Create(Vlm2VecEncoderOptions options)
    {
        Requests.Enqueue(options);
        if (!CanOpen(options.ModelPath))
        {
            throw new ModelFormatException($"'{options.ModelPath}' has no {MarkerFile} file.");
        }

        var preprocessor = TestModel.NewPreprocessor(options.Preprocessing);
        var encoder = new HashingEncoder(preprocessor, File.ReadAllText(Path.Combine(options.ModelPath, MarkerFile)));
        Created.Enqueue(encoder);
        return encoder;
    }
}
