using Vlm2Vec.TestSupport;

namespace Vlm2Vec.TorchSharp.Tests.Training;

/// <summary>One tiny base model folder shared by the tests of a class (see <see cref="TrainingFixture.CreateBaseModel"/>).</summary>
public sealed class BaseModelFixture : IDisposable
{
    private readonly TempFolder _folder = new("train-base");

    public BaseModelFixture()
    {
        Folder = TrainingFixture.CreateBaseModel(_folder.Combine("base"));
    }

    public string Folder { get; }

    public void Dispose() => _folder.Dispose();
}
