namespace Vlm2Vec.TorchSharp.Training;

/// <summary>
/// Hugging Face's <c>get_linear_schedule_with_warmup</c>: the factor rises linearly from 0 over the warmup steps, then
/// falls linearly to 0 at the last step. Optimiser step <c>s</c> (0-based) uses <c>lr · factor(s)</c>, exactly as
/// the HF Trainer's <c>LambdaLR</c> does (so with warmup the first step has learning rate 0).
/// </summary>
internal static class LinearWarmupSchedule
{
    public static double Factor(int step, int warmupSteps, int totalSteps)
    {
        if (step < warmupSteps)
        {
            return step / (double)Math.Max(1, warmupSteps);
        }

        return Math.Max(0.0, (totalSteps - step) / (double)Math.Max(1, totalSteps - warmupSteps));
    }

    /// <summary>Warmup steps from the options: the explicit count, else <c>ceil(ratio · total)</c> (HF <c>get_warmup_steps</c>).</summary>
    public static int WarmupStepsFor(ContrastiveTrainingOptions options, int totalSteps) =>
        options.WarmupSteps ?? (int)Math.Ceiling(options.WarmupRatio * totalSteps);
}
