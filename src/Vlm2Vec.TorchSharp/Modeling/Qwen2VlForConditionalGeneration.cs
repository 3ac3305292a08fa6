using global::TorchSharp.Modules;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Modeling;

/// <summary>
/// Qwen2-VL in TorchSharp, mirroring Hugging Face <c>Qwen2VLForConditionalGeneration</c> module for module, with the
/// classic checkpoint names (<c>model.*</c> decoder, <c>visual.*</c> vision tower, optional <c>lm_head</c>), so
/// checkpoints load by name. The forward returns the final-norm hidden states and VLM2Vec's pooled, L2-normalised
/// embedding (spec §1.4, §3.5–§3.8).
/// </summary>
/// <remarks>
/// Not thread-safe: one forward at a time (<see cref="TorchSharpVlm2VecEncoder"/> serialises its calls). Wrap each call in
/// <c>torch.NewDisposeScope()</c>, and in <c>torch.inference_mode()</c> when no gradient is needed. Call
/// <see cref="TorchSharpRuntime.EnsureLoaded"/> before creating tensors yourself; the factories here call it.
/// </remarks>
public sealed class Qwen2VlForConditionalGeneration : nn.Module<Qwen2VlForwardInput, Qwen2VlForwardOutput>
{
    private Qwen2VlTextModel model;
    private Qwen2VisionTransformer visual;
    private Linear? lm_head;

    internal Qwen2VlForConditionalGeneration(Qwen2VlConfig config, ScalarType dtype, Qwen2VlAttentionImplementation implementation, bool includeLanguageModelHead)
        : base(nameof(Qwen2VlForConditionalGeneration))
    {
        TorchSharpRuntime.EnsureLoaded();
        if (dtype is not (ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16 or ScalarType.Float64))
        {
            throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "The model dtype must be a floating-point type (float32 or bfloat16).");
        }

        Config = config;
        AttentionImplementation = implementation;
        HasLanguageModelHead = includeLanguageModelHead;
        model = new Qwen2VlTextModel(config, dtype, implementation);
        visual = new Qwen2VisionTransformer(config.Vision, dtype, implementation);
        if (includeLanguageModelHead && !config.TieWordEmbeddings)
        {
            lm_head = nn.Linear(config.HiddenSize, config.VocabSize, hasBias: false, dtype: dtype);
        }

        RegisterComponents();

        // Parameters must outlive any dispose scope the caller happened to construct the model in.
        foreach (var parameter in parameters())
        {
            parameter.DetachFromDisposeScope();
        }
    }

    /// <summary>The model's config.</summary>
    public Qwen2VlConfig Config { get; }

    /// <summary>Parameter and activation dtype (that of the weights, so it follows a later <c>to(dtype)</c>).</summary>
    public ScalarType DType => model.EmbedTokens.weight!.dtype;

    /// <summary>Attention kernel in use.</summary>
    public Qwen2VlAttentionImplementation AttentionImplementation { get; }

    /// <summary>Whether <c>lm_head</c> logits are available (a separate <c>lm_head</c>, or the tied embeddings).</summary>
    public bool HasLanguageModelHead { get; }

    /// <summary>Embedding dimension (the decoder's hidden size).</summary>
    public int Dimension => Config.HiddenSize;

    internal Qwen2VlTextModel LanguageModel => model;

    internal Qwen2VisionTransformer Visual => visual;

    /// <summary>
    /// Loads a Hugging Face checkpoint folder: <c>config.json</c> plus <c>model.safetensors</c>,
    /// <c>model.safetensors.index.json</c> shards, or <c>pytorch_model.bin</c> (sharded or not). Both the classic
    /// (<c>model.*</c>, <c>visual.*</c>) and the newer (<c>model.language_model.*</c>, <c>model.visual.*</c>) names are
    /// accepted; every parameter must be present with its exact shape and no unknown tensor may be left over. A PEFT
    /// adapter (<see cref="Qwen2VlLoadOptions.AdapterPath"/>) is merged while loading, or injected as LoRA/DoRA modules
    /// (<see cref="Qwen2VlLoadOptions.MergeAdapter"/> = false).
    /// </summary>
    /// <exception cref="ModelFormatException">Missing or unusable files, wrong or missing tensors.</exception>
    public static Qwen2VlForConditionalGeneration FromPretrained(string folder, Qwen2VlLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        options ??= new Qwen2VlLoadOptions();
        TorchSharpRuntime.EnsureLoaded();
        if (!Directory.Exists(folder))
        {
            throw new ModelFormatException($"Model folder '{folder}' does not exist.");
        }

        var config = Qwen2VlConfig.Load(Path.Combine(folder, "config.json"));
        var result = new Qwen2VlForConditionalGeneration(config, options.DType, options.AttentionImplementation, options.IncludeLanguageModelHead);
        try
        {
            Qwen2VlCheckpoint.LoadWeights(result, folder, options.AdapterPath, options.MergeAdapter);
        }
        catch
        {
            result.Dispose();
            throw;
        }

        result.eval();
        return result;
    }

    /// <summary>
    /// Builds a randomly initialised model (like the reference's <c>_init_weights</c>: normal(0, initializer_range) for
    /// linear, convolution and embedding weights, zero biases, unit norm weights), deterministic for a given seed.
    /// For tests, benchmarks and training from scratch.
    /// </summary>
    public static Qwen2VlForConditionalGeneration CreateRandom(Qwen2VlConfig config, Qwen2VlRandomInitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        options ??= new Qwen2VlRandomInitOptions();
        TorchSharpRuntime.EnsureLoaded();
        var result = new Qwen2VlForConditionalGeneration(config, options.DType, options.AttentionImplementation, options.IncludeLanguageModelHead);
        Qwen2VlInitializer.Initialize(result, options.Seed, options.InitializerRange, config.PadTokenId);
        result.eval();
        return result;
    }

    /// <summary>
    /// Writes a Hugging Face folder: <c>config.json</c> (classic flat layout, <c>torch_dtype</c> set to this model's dtype)
    /// and <c>model.safetensors</c> with the canonical names. Tied embeddings write no <c>lm_head.weight</c>. With injected
    /// (unmerged) adapters the adapter tensors are part of the state dict: merge or extract them first.
    /// </summary>
    public void SavePretrained(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        Qwen2VlCheckpoint.Save(this, folder);
    }

    /// <summary>
    /// The forward pass: token embeddings, image features scattered into the image-token positions in reading order,
    /// M-RoPE positions (given or computed like <c>get_rope_index</c>), the decoder with the reference's eager causal +
    /// padding mask, the final norm, then VLM2Vec pooling and L2 normalisation.
    /// </summary>
    /// <exception cref="InvalidInputException">Inconsistent shapes, or image tokens and image features that do not match in number.</exception>
    public override Qwen2VlForwardOutput forward(Qwen2VlForwardInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var (batch, length) = Validate(input);
        using var scope = NewDisposeScope();

        var inputIds = input.InputIds;
        var embeds = model.Embed(inputIds);
        var imageMask = input.ImageTokenMask is { } explicitMask ? explicitMask.ne(0) : inputIds.eq(Config.ImageTokenId);
        long[]? grid = null;
        if (input.PixelValues is not null || input.ImageFeatures is not null)
        {
            // Features computed earlier stand for the pixels (which may then be absent): one feature per merged patch.
            var merge = Config.Vision.SpatialMergeSize * Config.Vision.SpatialMergeSize;
            grid = ReadGrid(input.ImageGridThw, input.PixelValues?.shape[0] ?? (input.ImageFeatures!.shape[0] * merge));
            var features = input.ImageFeatures ?? visual.call(input.PixelValues!, grid);
            var tokenCount = imageMask.sum().item<long>();
            if (tokenCount != features.shape[0])
            {
                throw new InvalidInputException(
                    $"Image features and image tokens do not match: the batch has {tokenCount} image tokens but its {grid.Length / 3} image(s) give {features.shape[0]} features (t·h·w / {Config.Vision.SpatialMergeSize * Config.Vision.SpatialMergeSize} per image).");
            }

            embeds = embeds.masked_scatter(imageMask.unsqueeze(-1).expand_as(embeds), features.to(embeds.dtype));
        }
        else
        {
            if (input.ImageGridThw is { } orphan && orphan.numel() > 0)
            {
                throw new InvalidInputException($"ImageGridThw lists {orphan.shape[0]} image(s) but PixelValues is null.");
            }

            if (input.ImageTokenMask is not null && imageMask.any().item<bool>())
            {
                throw new InvalidInputException(
                    $"Image features and image tokens do not match: ImageTokenMask marks {imageMask.sum().item<long>()} image tokens but the batch has no images (0 features).");
            }
        }

        var positionIds = PositionIdsFor(input, grid, batch, length);
        var (last, hiddenStates, _) = model.Forward(embeds, positionIds, input.AttentionMask, input.OutputHiddenStates);
        var pooled = Pool(last, input.AttentionMask);

        // Each tensor is moved out of this scope exactly once (the last hidden state is also the tuple's last entry).
        if (hiddenStates is not null)
        {
            foreach (var h in hiddenStates)
            {
                if (!ReferenceEquals(h, last))
                {
                    h.MoveToOuterDisposeScope();
                }
            }
        }

        return new Qwen2VlForwardOutput(
            last.MoveToOuterDisposeScope(),
            hiddenStates,
            pooled.MoveToOuterDisposeScope(),
            positionIds.MoveToOuterDisposeScope());
    }

    /// <summary>Vision tower output <c>(tokens, hidden)</c> for <paramref name="pixelValues"/> (the reference's <c>get_image_features</c>, concatenated).</summary>
    internal Tensor GetImageFeatures(Tensor pixelValues, Tensor imageGridThw)
    {
        var grid = ReadGrid(imageGridThw, pixelValues.shape[0]);
        return visual.call(pixelValues, grid);
    }

    /// <summary>Language-model logits <c>(…, vocab)</c> for final-norm hidden states (<c>lm_head</c>, or the embedding matrix when tied).</summary>
    /// <exception cref="InvalidOperationException">The model was built without <see cref="Qwen2VlLoadOptions.IncludeLanguageModelHead"/>.</exception>
    public Tensor Logits(Tensor hiddenStates)
    {
        if (!HasLanguageModelHead)
        {
            throw new InvalidOperationException("The model was built without a language-model head (IncludeLanguageModelHead = false).");
        }

        return lm_head is not null ? lm_head.call(hiddenStates) : nn.functional.linear(hiddenStates, model.EmbedTokens.weight!);
    }

    /// <summary>
    /// VLM2Vec's <c>_pooling</c> ("last"/"eos") and normalisation: the last column when every row's last mask entry is 1,
    /// otherwise <c>sum(mask) − 1</c> per row (Python indexing, so an empty row takes the last column); then
    /// <c>x / max(‖x‖₂, 1e-12)</c> in the hidden states' dtype.
    /// </summary>
    internal static Tensor Pool(Tensor lastHiddenState, Tensor? attentionMask)
    {
        using var scope = NewDisposeScope();
        var batch = lastHiddenState.shape[0];
        var length = lastHiddenState.shape[1];
        Tensor reps;
        var mask = attentionMask?.to(ScalarType.Int64);
        if (mask is null || mask[TensorIndex.Colon, -1].sum().item<long>() == batch)
        {
            reps = lastHiddenState[TensorIndex.Colon, -1, TensorIndex.Colon];
        }
        else
        {
            var index = mask.sum(1) - 1;
            index = where(index.lt(0), index + length, index);
            reps = lastHiddenState[TensorIndex.Tensor(arange(batch, dtype: ScalarType.Int64)), TensorIndex.Tensor(index)];
        }

        return nn.functional.normalize(reps, p: 2, dim: -1, eps: 1e-12).MoveToOuterDisposeScope();
    }

    private Tensor PositionIdsFor(Qwen2VlForwardInput input, long[]? grid, long batch, long length)
    {
        if (input.PositionIds is { } given)
        {
            // Always a copy: the result leaves this scope and must never be the caller's own tensor.
            var ids = given.to(ScalarType.Int64, copy: true);
            return ids.dim() == 2 ? ids.unsqueeze(0).expand(3, batch, length).contiguous() : ids;
        }

        var inputIds = input.InputIds.to(ScalarType.Int64).contiguous().data<long>().ToArray();
        var mask = input.AttentionMask is { } m ? m.to(ScalarType.Int64).contiguous().data<long>().ToArray() : [];
        var positions = Qwen2VlRopeIndex.Compute(inputIds, mask, (int)batch, (int)length, grid, Config);
        return tensor(positions, [3, batch, length]);
    }

    private (long Batch, long Length) Validate(Qwen2VlForwardInput input)
    {
        var ids = input.InputIds ?? throw new InvalidInputException("InputIds is required.");
        if (ids.dim() != 2 || ids.shape[0] == 0 || ids.shape[1] == 0)
        {
            throw new InvalidInputException($"InputIds must be a non-empty (batch, length) tensor; got shape [{string.Join(", ", ids.shape)}].");
        }

        if (ids.dtype != ScalarType.Int64 && ids.dtype != ScalarType.Int32)
        {
            throw new InvalidInputException($"InputIds must hold integer token ids (int64); got {ids.dtype}.");
        }

        var batch = ids.shape[0];
        var length = ids.shape[1];
        void RequireShape(Tensor? t, string name)
        {
            if (t is not null && (t.dim() != 2 || t.shape[0] != batch || t.shape[1] != length))
            {
                throw new InvalidInputException($"{name} must have the shape of InputIds ({batch}, {length}); got [{string.Join(", ", t.shape)}].");
            }
        }

        RequireShape(input.AttentionMask, nameof(input.AttentionMask));
        RequireShape(input.ImageTokenMask, nameof(input.ImageTokenMask));
        if (input.PositionIds is { } positions)
        {
            var ok = positions.dim() switch
            {
                3 => positions.shape[0] == 3 && positions.shape[1] == batch && positions.shape[2] == length,
                2 => positions.shape[0] == batch && positions.shape[1] == length,
                _ => false,
            };
            if (!ok)
            {
                throw new InvalidInputException($"PositionIds must be (3, {batch}, {length}) or ({batch}, {length}); got [{string.Join(", ", positions.shape)}].");
            }
        }

        if (input.PixelValues is { } pixels)
        {
            var rowLength = Config.Vision.PatchRowLength;
            if (pixels.dim() != 2 || pixels.shape[1] != rowLength)
            {
                throw new InvalidInputException($"PixelValues must be (patches, {rowLength}); got [{string.Join(", ", pixels.shape)}].");
            }

            if (!pixels.is_floating_point())
            {
                throw new InvalidInputException($"PixelValues must be floating point; got {pixels.dtype}.");
            }
        }

        return (batch, length);
    }

    private long[] ReadGrid(Tensor? imageGridThw, long patchRows)
    {
        if (imageGridThw is null || imageGridThw.dim() != 2 || imageGridThw.shape[1] != 3 || imageGridThw.shape[0] == 0)
        {
            throw new InvalidInputException(
                $"ImageGridThw must be an (images, 3) tensor of (t, h, w) when PixelValues is given; got {(imageGridThw is null ? "null" : $"[{string.Join(", ", imageGridThw.shape)}]")}.");
        }

        var grid = imageGridThw.to(ScalarType.Int64).contiguous().data<long>().ToArray();
        var merge = Config.Vision.SpatialMergeSize;
        long total = 0;
        for (var i = 0; i < grid.Length; i += 3)
        {
            long t = grid[i], h = grid[i + 1], w = grid[i + 2];
            if (t <= 0 || h <= 0 || w <= 0 || h % merge != 0 || w % merge != 0)
            {
                throw new InvalidInputException(
                    $"Image {i / 3}: grid ({t}, {h}, {w}) is invalid; t, h, w must be positive and h, w multiples of the merge size {merge}.");
            }

            total += t * h * w;
        }

        if (total != patchRows)
        {
            throw new InvalidInputException($"ImageGridThw describes {total} patch rows (Σ t·h·w) but PixelValues has {patchRows}.");
        }

        return grid;
    }
}
