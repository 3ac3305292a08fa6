namespace Vlm2Vec.TorchSharp.Training;

/// <summary>Whether a run continues from a checkpoint in its output folder.</summary>
public enum ResumeBehavior
{
    /// <summary>Continue from the latest checkpoint of the output folder when there is one; otherwise start.</summary>
    Auto,

    /// <summary>Start from the beginning; the output folder must hold no checkpoint of an earlier run.</summary>
    Never,
}
