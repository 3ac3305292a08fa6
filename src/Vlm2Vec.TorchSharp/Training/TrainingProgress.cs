namespace Vlm2Vec.TorchSharp.Training;

/// <summary>A progress report of a training run (one per optimiser step, plus phase changes).</summary>
public sealed record TrainingProgress
{
    /// <summary>What the run is doing.</summary>
    public required TrainingPhase Phase { get; init; }

    /// <summary>Optimiser steps done.</summary>
    public required int Step { get; init; }

    /// <summary>Steps the run will make.</summary>
    public required int TotalSteps { get; init; }

    /// <summary>The epoch of the last step (0-based).</summary>
    public int Epoch { get; init; }

    /// <summary>Loss of the last step (query→target InfoNCE, or the symmetric average).</summary>
    public double Loss { get; init; }

    /// <summary>Learning rate used by the last step.</summary>
    public double LearningRate { get; init; }

    /// <summary>Global gradient norm of the last step, before clipping.</summary>
    public double GradientNorm { get; init; }

    /// <summary>Training pairs per second over this process's steps (preparation included).</summary>
    public double ExamplesPerSecond { get; init; }

    /// <summary>Wall time of this process's steps.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>Estimated time to the last step (null until a step has been timed).</summary>
    public TimeSpan? Remaining { get; init; }

    /// <summary>Rows left out as unusable so far.</summary>
    public int SkippedRows { get; init; }

    /// <summary>A short human-readable note for the phase (checkpoint folder, output folder).</summary>
    public string? Message { get; init; }
}
