using Vlm2Vec.TorchSharp.Checkpoints;
using Vlm2Vec.TorchSharp.Peft;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Modeling;

/// <summary>
/// Glue between <see cref="Qwen2VlForConditionalGeneration"/> and the shared checkpoint IO (<see cref="CheckpointFolder"/>,
/// <see cref="CheckpointWriter"/>, <see cref="PeftAdapter"/>, <see cref="LoraInjector"/>): canonical names, strict
/// name/shape validation, adapters merged while loading or injected unmerged.
/// </summary>
internal static class Qwen2VlCheckpoint
{
    /// <summary>
    /// Loads the folder's weights into <paramref name="model"/> (converted to its dtype). Every parameter must be present
    /// with its exact shape and no unknown tensor may be left over; tolerated: rotary <c>inv_freq</c> buffers of old
    /// saves, and <c>lm_head.weight</c> when the model has no separate head. An adapter is merged while loading, or
    /// injected unmerged when <paramref name="mergeAdapter"/> is false.
    /// </summary>
    public static void LoadWeights(Qwen2VlForConditionalGeneration model, string folder, string? adapterPath, bool mergeAdapter)
    {
        var checkpoint = CheckpointFolder.Open(folder);
        using var adapter = adapterPath is null ? null : PeftAdapter.Load(adapterPath);
        var hasSeparateHead = model.named_parameters().Any(p => WeightNames.IsLanguageModelHead(p.name));
        checkpoint.LoadInto(model, new CheckpointLoadOptions
        {
            TieWordEmbeddings = model.Config.TieWordEmbeddings,
            SkipLanguageModelHead = !hasSeparateHead,
            IncludeTensor = name => !name.EndsWith(".inv_freq", StringComparison.Ordinal),
            Adapter = mergeAdapter ? adapter : null,
        });

        if (adapter is not null && !mergeAdapter)
        {
            LoraInjector.Apply(model, adapter);
        }
    }

    /// <summary>Writes <c>config.json</c> (with <c>torch_dtype</c>) and <c>model.safetensors</c> with the canonical names.</summary>
    public static void Save(Qwen2VlForConditionalGeneration model, string folder)
    {
        using var scope = NewDisposeScope();
        var stateDict = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, parameter) in model.named_parameters())
        {
            stateDict[name] = parameter.detach();
        }

        CheckpointWriter.Write(folder, model.Config with { TorchDtype = DTypeName(model.DType) }, stateDict);
    }

    /// <summary>The Hugging Face <c>torch_dtype</c> string of a dtype.</summary>
    public static string DTypeName(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.BFloat16 => "bfloat16",
        ScalarType.Float16 => "float16",
        ScalarType.Float64 => "float64",
        _ => dtype.ToString().ToLowerInvariant(),
    };
}
