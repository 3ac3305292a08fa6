namespace Vlm2Vec.TorchSharp.Tests.Training;

/// <summary>
/// Training tests run alone: dropout and the trainer use libtorch's process-wide default generator (and thread
/// count), so a test class running beside them would change their random draws.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TrainingCollection
{
    public const string Name = "Training (global RNG)";
}
