using Microsoft.Extensions.Logging;

namespace Vlm2Vec.TorchSharp.Training;

/// <summary>The trainer's log messages (source-generated).</summary>
internal static partial class TrainingLog
{
    [LoggerMessage(EventId = 300, Level = LogLevel.Warning, Message = "Skipping training row {Source}: {Reason}")]
    public static partial void BadRowSkipped(ILogger logger, string source, string reason);

    [LoggerMessage(EventId = 301, Level = LogLevel.Information, Message = "Resuming from checkpoint {Folder} (step {Step} of {TotalSteps}).")]
    public static partial void Resuming(ILogger logger, string folder, int step, int totalSteps);

    [LoggerMessage(EventId = 302, Level = LogLevel.Information, Message = "Checkpoint written: {Folder}.")]
    public static partial void CheckpointWritten(ILogger logger, string folder);

    [LoggerMessage(EventId = 303, Level = LogLevel.Information,
        Message = "Training {Mode}: {Trainable:N0} of {Total:N0} parameter elements trainable, {Examples} rows, {Steps} steps of {BatchSize} (warmup {Warmup}), GradCache {GradCache}.")]
    public static partial void Starting(ILogger logger, string mode, long trainable, long total, int examples, int steps, int batchSize, int warmup, string gradCache);

    [LoggerMessage(EventId = 304, Level = LogLevel.Warning, Message = "{Count} training row(s) were left out as unusable; the first: {First}")]
    public static partial void RowsSkippedAtLoad(ILogger logger, int count, string first);

    [LoggerMessage(EventId = 305, Level = LogLevel.Warning, Message = "Batch {Batch} of epoch {Epoch} has no usable row; it is passed over.")]
    public static partial void EmptyBatch(ILogger logger, int batch, int epoch);
}
