namespace Vlm2Vec.TorchSharp.Training;

/// <summary>What a training run is doing when it reports progress.</summary>
public enum TrainingPhase
{
    /// <summary>Loading the model and reading the data.</summary>
    Starting,

    /// <summary>An optimiser step finished.</summary>
    Step,

    /// <summary>Writing a checkpoint.</summary>
    Checkpointing,

    /// <summary>Writing the final adapter / model.</summary>
    WritingOutputs,

    /// <summary>Done (finished, stopped by the time limit, or cancelled).</summary>
    Finished,
}
