namespace Vlm2Vec.Cli.Tests;

/// <summary>
/// A test engine: opens folders holding <c>fake-engine.json</c> (whose text, if any, is the model id) with a
/// <see cref="FakeEvalEncoder"/>: the given one, or a new one per folder.
/// </summary>
internal sealed class FakeEngineFactory : IVlm2VecEncoderFactory
{
    public const string MarkerFile = "fake-engine.json";

    private readonly FakeEvalEncoder? _encoder;

    public FakeEngineFactory(FakeEvalEncoder? encoder = null)
    {
        _encoder = encoder;
    }

    public string Engine => "fake";

    public bool CanOpen(string modelPath) => File.Exists(Path.Combine(modelPath, MarkerFile));

    public IVlm2VecEncoder Create(Vlm2VecEncoderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (_encoder is { } given)
        {
            return given;
        }

        var id = File.ReadAllText(Path.Combine(options.ModelPath, MarkerFile)).Trim();
        return new FakeEvalEncoder(id.Length > 0 ? id : "test/fake-eval");
    }
}
