namespace Vlm2Vec.Cli.Tests;

/// <summary>
/// A test engine: opens folders holding <c>fake-engine.json</c> (whose text, if any, is the model id) with a
/// <see cref="FakeEvalEncoder"/>. Public with an optional-parameter constructor, so the tool's engine discovery finds it in
/// this test assembly exactly as it finds a real engine assembly shipped beside the tool.
/// </summary>
public sealed class FakeEngineFactory : IVlm2VecEncoderFactory
{
    public const string MarkerFile = "fake-engine.json";

    private readonly object? _encoder;

    public FakeEngineFactory(object? encoder = null)
    {
        _encoder = encoder;
    }

    public string Engine => "fake";

    public bool CanOpen(string modelPath) => File.Exists(Path.Combine(modelPath, MarkerFile));

    public IVlm2VecEncoder Create(Vlm2VecEncoderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (_encoder is FakeEvalEncoder given)
        {
            return given;
        }

        var id = File.ReadAllText(Path.Combine(options.ModelPath, MarkerFile)).Trim();
        return new FakeEvalEncoder(id.Length > 0 ? id : "test/fake-eval");
    }
}
