namespace Vlm2Vec.TorchSharp.Training;

/// <summary>What training does with a row it cannot use (missing or undecodable image, empty or malformed row).</summary>
public enum BadRowPolicy
{
    /// <summary>Leave the row out, log a warning naming it (file and line, or index) and count it in the result.</summary>
    Skip,

    /// <summary>Stop the run with a <see cref="TrainingDataException"/> naming the row.</summary>
    Fail,
}
