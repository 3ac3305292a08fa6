using System.Text.Json;
using Vlm2Vec.TorchSharp.Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Vlm2Vec.TorchSharp.Tests.Onnx;

/// <summary>
/// A test composition of <see cref="OnnxBlocks"/> into the whole Qwen2-VL → VLM2Vec forward pass for the tiny
/// reference checkpoints (HF module tree: patch embed → vision blocks → merger → scatter into the token embeddings →
/// decoder layers → final RMSNorm → last-token pool → L2). It shows the blocks compose to HF's numbers; the product
/// exporter writes the same graph from TorchSharp weights.
/// </summary>
internal sealed class TinyQwen2VlGraph
{
    private readonly Dictionary<string, (float[] Data, long[] Shape)> _weights;
    private readonly OnnxGraphBuilder _g;

    public TinyQwen2VlGraph(string modelFolder, OnnxGraphBuilder builder, DataType dtype = DataType.Float, bool fusedSkipNorms = false)
    {
        Dtype = dtype;
        FusedSkipNorms = fusedSkipNorms;
        _weights = new Dictionary<string, (float[] Data, long[] Shape)>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(modelFolder, "*.safetensors"))
        {
            foreach (var (name, tensor) in ReferenceFixtures.ReadSafetensors(file))
            {
                _weights.Add(name, tensor);
            }
        }

        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(modelFolder, "config.json")));
        var root = config.RootElement;
        Hidden = root.GetProperty("hidden_size").GetInt32();
        Heads = root.GetProperty("num_attention_heads").GetInt32();
        KvHeads = root.GetProperty("num_key_value_heads").GetInt32();
        Layers = root.GetProperty("num_hidden_layers").GetInt32();
        RmsEpsilon = root.GetProperty("rms_norm_eps").GetSingle();
        RopeTheta = root.GetProperty("rope_theta").GetDouble();
        MropeSection = root.GetProperty("rope_scaling").GetProperty("mrope_section").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        ImageTokenId = root.GetProperty("image_token_id").GetInt64();
        var vision = root.GetProperty("vision_config");
        VisionDepth = vision.GetProperty("depth").GetInt32();
        VisionWidth = vision.GetProperty("embed_dim").GetInt32();
        VisionHeads = vision.GetProperty("num_heads").GetInt32();
        _g = builder;
    }

    /// <summary>Activation and weight dtype (float32, or float16 for the GPU export; float32 islands where HF uses them).</summary>
    public DataType Dtype { get; }

    /// <summary>Whether residual adds fuse into the following norm (SkipSimplified/SkipLayerNormalization).</summary>
    public bool FusedSkipNorms { get; }

    public int Hidden { get; }

    public int Heads { get; }

    public int KvHeads { get; }

    public int HeadDim => Hidden / Heads;

    public int Layers { get; }

    public float RmsEpsilon { get; }

    public double RopeTheta { get; }

    public int[] MropeSection { get; }

    public long ImageTokenId { get; }

    public int VisionDepth { get; }

    public int VisionWidth { get; }

    public int VisionHeads { get; }

    public int VisionHeadDim => VisionWidth / VisionHeads;

    /// <summary>pixel_values (P, 1176) → patch embeddings (P, E).</summary>
    public string PatchEmbed(string pixelValues)
    {
        using var scope = _g.Scope("visual/patch_embed");
        return _g.MatMul(pixelValues, Linear("visual.patch_embed.proj.weight", flatten: true));
    }

    /// <summary>One vision block (pre-norm LayerNorm, fused qkv, 2-D rotary, block-diagonal attention, QuickGELU MLP).</summary>
    public string VisionBlock(int index, string hidden, string cos, string sin, string bias, AttentionFormulation attention)
    {
        var prefix = $"visual.blocks.{index}";
        using var scope = _g.Scope($"visual/blocks.{index}");
        var normed = _g.LayerNorm(hidden, Vector($"{prefix}.norm1.weight"), Vector($"{prefix}.norm1.bias"), 1e-6f);
        var qkv = _g.Add(_g.MatMul(normed, Linear($"{prefix}.attn.qkv.weight")), Vector($"{prefix}.attn.qkv.bias"));
        var parts = _g.Split(qkv, -1, VisionWidth, VisionWidth, VisionWidth);
        var q = RotateInFloat32(_g.Unsqueeze(parts[0], 0), cos, sin);
        var k = RotateInFloat32(_g.Unsqueeze(parts[1], 0), cos, sin);
        var context = _g.Attention(q, k, _g.Unsqueeze(parts[2], 0), bias, VisionHeads, VisionHeads, VisionHeadDim, attention, Dtype);
        var projected = _g.Add(_g.MatMul(_g.Squeeze(context, 0), Linear($"{prefix}.attn.proj.weight")), Vector($"{prefix}.attn.proj.bias"));
        var (normed2, residual) = _g.SkipLayerNorm(projected, hidden, Vector($"{prefix}.norm2.weight"), Vector($"{prefix}.norm2.bias"), 1e-6f, FusedSkipNorms);
        var up = _g.Add(_g.MatMul(normed2, Linear($"{prefix}.mlp.fc1.weight")), Vector($"{prefix}.mlp.fc1.bias"));
        var down = _g.Add(_g.MatMul(_g.QuickGelu(up), Linear($"{prefix}.mlp.fc2.weight")), Vector($"{prefix}.mlp.fc2.bias"));
        return _g.Add(residual, down);
    }

    /// <summary>The patch merger: LayerNorm → group 2×2 patches → Linear → exact GELU → Linear.</summary>
    public string Merger(string hidden)
    {
        using var scope = _g.Scope("visual/merger");
        var normed = _g.LayerNorm(hidden, Vector("visual.merger.ln_q.weight"), Vector("visual.merger.ln_q.bias"), 1e-6f);
        var grouped = _g.Reshape(normed, -1, 4 * VisionWidth);
        var mid = _g.Gelu(_g.Add(_g.MatMul(grouped, Linear("visual.merger.mlp.0.weight")), Vector("visual.merger.mlp.0.bias")));
        return _g.Add(_g.MatMul(mid, Linear("visual.merger.mlp.2.weight")), Vector("visual.merger.mlp.2.bias"));
    }

    /// <summary>The whole vision tower: (P, 1176) pixels, (P, 2) rotary ids, cu_seqlens → (P/4, H) image features.
    /// Also returns each block's output.</summary>
    public (string Features, string[] BlockOutputs) Vision(string pixelValues, string rotaryIds, string cuSeqlens, AttentionFormulation attention)
    {
        var (cos, sin) = _g.VisionRotaryCosSin(rotaryIds, RotaryExactnessTests.InvFreq(10_000.0, VisionHeadDim / 2));
        cos = _g.Unsqueeze(cos, 0);
        sin = _g.Unsqueeze(sin, 0);
        var bias = _g.BlockDiagonalBias(cuSeqlens, Dtype);
        var hidden = PatchEmbed(pixelValues);
        var outputs = new string[VisionDepth];
        for (var i = 0; i < VisionDepth; i++)
        {
            hidden = outputs[i] = VisionBlock(i, hidden, cos, sin, bias, attention);
        }

        return (Merger(hidden), outputs);
    }

    /// <summary>Token embeddings with image features scattered into the image-placeholder rows.</summary>
    public string Embed(string inputIds, string? imageFeatures)
    {
        using var scope = _g.Scope("model/embed_tokens");
        var embeds = _g.Gather(Tensor("model.embed_tokens.weight"), inputIds);
        return imageFeatures is null ? embeds : _g.ScatterImageFeatures(embeds, inputIds, imageFeatures, ImageTokenId);
    }

    /// <summary>Decoder layers + final norm: (B, L, H) embeddings → last_hidden_state.</summary>
    public string Decoder(string inputsEmbeds, string attentionMask, string positionIds3, AttentionFormulation attention)
    {
        var (cos, sin) = _g.MropeCosSin(positionIds3, RotaryExactnessTests.InvFreq(RopeTheta, HeadDim), MropeSection);
        if (Dtype != DataType.Float)
        {
            // HF (LLM): cos/sin computed in float32, cast to the activation dtype.
            (cos, sin) = (_g.Cast(cos, Dtype), _g.Cast(sin, Dtype));
        }

        var bias = _g.CausalPaddingBias(attentionMask, Dtype);
        var hidden = inputsEmbeds;
        string? pendingResidualInput = null;
        for (var i = 0; i < Layers; i++)
        {
            var prefix = $"model.layers.{i}";
            using var scope = _g.Scope($"model/layers.{i}");

            // The previous layer's MLP output and its residual fuse into this layer's input norm.
            string normed;
            if (pendingResidualInput is null)
            {
                normed = _g.RmsNorm(hidden, Vector($"{prefix}.input_layernorm.weight"), RmsEpsilon, dtype: Dtype);
            }
            else
            {
                (normed, hidden) = _g.SkipRmsNorm(pendingResidualInput, hidden, Vector($"{prefix}.input_layernorm.weight"), RmsEpsilon, FusedSkipNorms, Dtype);
            }

            var q = _g.Add(_g.MatMul(normed, Linear($"{prefix}.self_attn.q_proj.weight")), Vector($"{prefix}.self_attn.q_proj.bias"));
            var k = _g.Add(_g.MatMul(normed, Linear($"{prefix}.self_attn.k_proj.weight")), Vector($"{prefix}.self_attn.k_proj.bias"));
            var v = _g.Add(_g.MatMul(normed, Linear($"{prefix}.self_attn.v_proj.weight")), Vector($"{prefix}.self_attn.v_proj.bias"));
            q = _g.ApplyRotary(q, cos, sin, Heads, HeadDim);
            k = _g.ApplyRotary(k, cos, sin, KvHeads, HeadDim);
            var context = _g.Attention(q, k, v, bias, Heads, KvHeads, HeadDim, attention, Dtype);
            var attnOut = _g.MatMul(context, Linear($"{prefix}.self_attn.o_proj.weight"));
            var (normed2, residual) = _g.SkipRmsNorm(attnOut, hidden, Vector($"{prefix}.post_attention_layernorm.weight"), RmsEpsilon, FusedSkipNorms, Dtype);
            var gate = _g.MatMul(normed2, Linear($"{prefix}.mlp.gate_proj.weight"));
            var up = _g.MatMul(normed2, Linear($"{prefix}.mlp.up_proj.weight"));
            pendingResidualInput = _g.MatMul(_g.SwiGlu(gate, up), Linear($"{prefix}.mlp.down_proj.weight"));
            hidden = residual;
        }

        using var final = _g.Scope("model/norm");
        return _g.SkipRmsNorm(pendingResidualInput!, hidden, Vector("model.norm.weight"), RmsEpsilon, FusedSkipNorms, Dtype).Output;
    }

    /// <summary>HF (ViT): q/k rotated in float32 and cast back.</summary>
    private string RotateInFloat32(string x, string cos, string sin)
    {
        if (Dtype == DataType.Float)
        {
            return _g.ApplyRotary(x, cos, sin, VisionHeads, VisionHeadDim);
        }

        return _g.Cast(_g.ApplyRotary(_g.Cast(x, DataType.Float), cos, sin, VisionHeads, VisionHeadDim), Dtype);
    }

    private string Vector(string name) => _g.HasValue(name) ? name : _g.AddInitializer(name, _weights[name].Data, _weights[name].Shape, Dtype);

    private string Tensor(string name) => Vector(name);

    /// <summary>A Linear weight (out, in) stored transposed as (in, out) for MatMul; conv kernels flattened first.</summary>
    private string Linear(string name, bool flatten = false)
    {
        var key = name + ".T";
        if (_g.HasValue(key))
        {
            return key;
        }

        var (data, shape) = _weights[name];
        long[] matrix = flatten ? [shape[0], data.Length / shape[0]] : shape;
        return _g.AddInitializer(key, ReferenceFixtures.Transposed(data, matrix), [matrix[1], matrix[0]], Dtype);
    }
}
