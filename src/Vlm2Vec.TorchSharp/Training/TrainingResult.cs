namespace Vlm2Vec.TorchSharp.Training;

/// <summary>What a training run did and wrote.</summary>
public sealed record TrainingResult
{
    /// <summary>Optimiser steps done in total (over every resumed process).</summary>
    public required int Steps { get; init; }

    /// <summary>Steps the run was planned for.</summary>
    public required int TotalSteps { get; init; }

    /// <summary>Whether every planned step ran (false after cancellation or the time limit).</summary>
    public required bool Completed { get; init; }

    /// <summary>Whether the run stopped because it was cancelled.</summary>
    public bool Cancelled { get; init; }

    /// <summary>Whether the run stopped at <see cref="ContrastiveTrainingOptions.TimeLimit"/>.</summary>
    public bool TimedOut { get; init; }

    /// <summary>The step this process resumed from (null when it started from scratch).</summary>
    public int? ResumedFromStep { get; init; }

    /// <summary>Loss of the last step (NaN when no step ran).</summary>
    public double FinalLoss { get; init; } = double.NaN;

    /// <summary>Mean loss over the last (up to) 50 steps of this process.</summary>
    public double RecentMeanLoss { get; init; } = double.NaN;

    /// <summary>Pairs trained on by this process.</summary>
    public long Examples { get; init; }

    /// <summary>Wall time of this process's training loop.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>Pairs per second of this process.</summary>
    public double ExamplesPerSecond { get; init; }

    /// <summary>Rows left out as unusable (load time and training time).</summary>
    public int SkippedRows { get; init; }

    /// <summary>Trainable parameter elements.</summary>
    public long TrainableParameters { get; init; }

    /// <summary>The last checkpoint written (null if none).</summary>
    public string? LastCheckpoint { get; init; }

    /// <summary>The PEFT adapter folder (LoRA mode; completed runs and runs stopped by the time limit).</summary>
    public string? AdapterFolder { get; init; }

    /// <summary>The full Hugging Face model folder (full mode, or LoRA with <see cref="ContrastiveTrainingOptions.MergeAdapter"/>).</summary>
    public string? ModelFolder { get; init; }
}
