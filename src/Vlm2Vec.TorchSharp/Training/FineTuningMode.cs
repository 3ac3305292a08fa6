namespace Vlm2Vec.TorchSharp.Training;

/// <summary>Which parameters contrastive training updates (spec §1.8, §1.10).</summary>
public enum FineTuningMode
{
    /// <summary>
    /// PEFT adapters (LoRA, or DoRA with <c>use_dora</c>) on the modules <see cref="ContrastiveTrainingOptions.Adapter"/>
    /// targets; every other parameter is frozen, as PEFT's <c>get_peft_model</c> does. VLM2Vec's recipe.
    /// </summary>
    Lora,

    /// <summary>Every parameter is trained (vision tower included unless frozen by option).</summary>
    Full,
}
