using TorchSharp;
using TorchSharp.Modules;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Tests.Checkpoints;

/// <summary>Sizes of the tiny Qwen2-VL-shaped test model.</summary>
internal sealed record TinySizes(int Vocab = 16, int Hidden = 8, int KvDim = 4, int Intermediate = 12, int Layers = 2, int VisionDim = 6, int VisionMlp = 10, int VisionBlocks = 1);

/// <summary>
/// A module tree with the Qwen2-VL weight names (model.embed_tokens, model.layers.{i}.self_attn.q/k/v/o_proj,
/// model.layers.{i}.mlp.gate/up/down_proj, model.norm, visual.blocks.{j}.attn.qkv/proj, visual.blocks.{j}.mlp.fc1/fc2,
/// visual.merger.mlp.0/2, lm_head) at toy sizes; the projections are Module&lt;Tensor, Tensor&gt; fields like the real model's.
/// </summary>
internal sealed class TinyQwen2VlModel : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // HF names
    private readonly TinyTextModel model;
    private readonly TinyVision visual;
    private readonly Linear lm_head;
#pragma warning restore IDE1006

    public TinyQwen2VlModel(TinySizes? sizes = null, ScalarType dtype = ScalarType.Float32)
        : base(nameof(TinyQwen2VlModel))
    {
        sizes ??= new TinySizes();
        Sizes = sizes;
        model = new TinyTextModel(sizes);
        visual = new TinyVision(sizes);
        lm_head = nn.Linear(sizes.Hidden, sizes.Vocab, hasBias: false);
        RegisterComponents();
        if (dtype != ScalarType.Float32)
        {
            this.to(dtype);
        }
    }

    public TinySizes Sizes { get; }

    /// <summary>Token ids (batch, seq) → final hidden states (batch, seq, hidden).</summary>
    public override Tensor forward(Tensor input) => model.forward(input);

    /// <summary>Seeded random values in every parameter (fp32 draws, cast to each parameter's type).</summary>
    public static TinyQwen2VlModel Random(long seed, TinySizes? sizes = null, ScalarType dtype = ScalarType.Float32)
    {
        var module = new TinyQwen2VlModel(sizes, dtype);
        using var generator = new Generator((ulong)seed, CPU);
        using (no_grad())
        {
            foreach (var (_, parameter) in module.named_parameters())
            {
                using var values = randn(parameter.shape, dtype: ScalarType.Float32, generator: generator).mul_(0.5);
                parameter.copy_(values);
            }
        }

        return module;
    }
}

internal sealed class TinyTextModel : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    private readonly Embedding embed_tokens;
    private readonly ModuleList<TinyDecoderLayer> layers;
    private readonly LayerNorm norm;
#pragma warning restore IDE1006

    public TinyTextModel(TinySizes sizes)
        : base(nameof(TinyTextModel))
    {
        embed_tokens = nn.Embedding(sizes.Vocab, sizes.Hidden);
        layers = new ModuleList<TinyDecoderLayer>([.. Enumerable.Range(0, sizes.Layers).Select(_ => new TinyDecoderLayer(sizes))]);
        norm = nn.LayerNorm(sizes.Hidden);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var hidden = embed_tokens.forward(input);
        foreach (var layer in layers)
        {
            hidden = layer.forward(hidden);
        }

        return norm.forward(hidden).MoveToOuterDisposeScope();
    }
}

internal sealed class TinyDecoderLayer : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    private readonly TinyAttention self_attn;
    private readonly TinyMlp mlp;
#pragma warning restore IDE1006

    public TinyDecoderLayer(TinySizes sizes)
        : base(nameof(TinyDecoderLayer))
    {
        self_attn = new TinyAttention(sizes);
        mlp = new TinyMlp(sizes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var h = input.add(self_attn.forward(input));
        return h.add(mlp.forward(h)).MoveToOuterDisposeScope();
    }
}

internal sealed class TinyAttention : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    private readonly nn.Module<Tensor, Tensor> q_proj;
    private readonly nn.Module<Tensor, Tensor> k_proj;
    private readonly nn.Module<Tensor, Tensor> v_proj;
    private readonly nn.Module<Tensor, Tensor> o_proj;
#pragma warning restore IDE1006

    public TinyAttention(TinySizes sizes)
        : base(nameof(TinyAttention))
    {
        q_proj = nn.Linear(sizes.Hidden, sizes.Hidden, hasBias: true);
        k_proj = nn.Linear(sizes.Hidden, sizes.KvDim, hasBias: true);
        v_proj = nn.Linear(sizes.Hidden, sizes.KvDim, hasBias: true);
        o_proj = nn.Linear(sizes.Hidden, sizes.Hidden, hasBias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var gate = k_proj.forward(input).sum(-1, keepdim: true).sigmoid();
        var shift = v_proj.forward(input).mean([-1L], keepdim: true);
        return o_proj.forward(q_proj.forward(input).mul(gate).add(shift)).MoveToOuterDisposeScope();
    }
}

internal sealed class TinyMlp : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    private readonly nn.Module<Tensor, Tensor> gate_proj;
    private readonly nn.Module<Tensor, Tensor> up_proj;
    private readonly nn.Module<Tensor, Tensor> down_proj;
#pragma warning restore IDE1006

    public TinyMlp(TinySizes sizes)
        : base(nameof(TinyMlp))
    {
        gate_proj = nn.Linear(sizes.Hidden, sizes.Intermediate, hasBias: false);
        up_proj = nn.Linear(sizes.Hidden, sizes.Intermediate, hasBias: false);
        down_proj = nn.Linear(sizes.Intermediate, sizes.Hidden, hasBias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return down_proj.forward(nn.functional.silu(gate_proj.forward(input)).mul(up_proj.forward(input))).MoveToOuterDisposeScope();
    }
}

internal sealed class TinyVision : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    private readonly ModuleList<TinyVisionBlock> blocks;
    private readonly TinyMerger merger;
#pragma warning restore IDE1006

    public TinyVision(TinySizes sizes)
        : base(nameof(TinyVision))
    {
        blocks = new ModuleList<TinyVisionBlock>([.. Enumerable.Range(0, sizes.VisionBlocks).Select(_ => new TinyVisionBlock(sizes))]);
        merger = new TinyMerger(sizes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => throw new NotSupportedException("Parameters only.");
}

internal sealed class TinyVisionBlock : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    private readonly TinyVisionAttention attn;
    private readonly TinyVisionMlp mlp;
#pragma warning restore IDE1006

    public TinyVisionBlock(TinySizes sizes)
        : base(nameof(TinyVisionBlock))
    {
        attn = new TinyVisionAttention(sizes);
        mlp = new TinyVisionMlp(sizes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => throw new NotSupportedException("Parameters only.");
}

internal sealed class TinyVisionAttention : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    private readonly nn.Module<Tensor, Tensor> qkv;
    private readonly nn.Module<Tensor, Tensor> proj;
#pragma warning restore IDE1006

    public TinyVisionAttention(TinySizes sizes)
        : base(nameof(TinyVisionAttention))
    {
        qkv = nn.Linear(sizes.VisionDim, 3 * sizes.VisionDim);
        proj = nn.Linear(sizes.VisionDim, sizes.VisionDim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => throw new NotSupportedException("Parameters only.");
}

internal sealed class TinyVisionMlp : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    private readonly nn.Module<Tensor, Tensor> fc1;
    private readonly nn.Module<Tensor, Tensor> fc2;
#pragma warning restore IDE1006

    public TinyVisionMlp(TinySizes sizes)
        : base(nameof(TinyVisionMlp))
    {
        fc1 = nn.Linear(sizes.VisionDim, sizes.VisionMlp);
        fc2 = nn.Linear(sizes.VisionMlp, sizes.VisionDim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => throw new NotSupportedException("Parameters only.");
}

internal sealed class TinyMerger : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    private readonly LayerNorm ln_q;
    private readonly Sequential mlp;
#pragma warning restore IDE1006

    public TinyMerger(TinySizes sizes)
        : base(nameof(TinyMerger))
    {
        ln_q = nn.LayerNorm(sizes.VisionDim);
        mlp = nn.Sequential(nn.Linear(4 * sizes.VisionDim, 4 * sizes.VisionDim), nn.GELU(), nn.Linear(4 * sizes.VisionDim, sizes.Hidden));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => throw new NotSupportedException("Parameters only.");
}
