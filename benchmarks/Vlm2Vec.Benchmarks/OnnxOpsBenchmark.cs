using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using Vlm2Vec.TorchSharp.Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Vlm2Vec.Benchmarks;

/// <summary>
/// Fused vs unfused ONNX formulations of the decoder's attention, RMSNorm and rotary blocks on ORT's CPU provider at a
/// small realistic size (batch 8, sequence 128, hidden 512, 8 heads of 64; left padding). Each graph is built with
/// <see cref="OnnxBlocks"/> exactly as the exporter writes it and run at ORT_ENABLE_ALL (the serving setting); the
/// report lists the nodes left after ORT's own fusions, so an "unfused" chain that ORT fuses anyway shows up.
/// Usage: <c>onnx-ops [--seconds N] [--rounds N] [--threads N]</c>. With <c>--gemm</c>: instead, the int8 MatMul
/// candidates for an int8 bundle (MatMulNBits 8-bit at several block sizes and accuracy levels, DynamicQuantizeMatMul,
/// DynamicQuantizeLinear + MatMulInteger) against the fp32 MatMul on the mid config's largest GEMM shapes, with their
/// error against the fp32 product.
/// </summary>
internal sealed class OnnxOpsBenchmark : IBenchmark
{
    private const int Batch = 8;
    private const int Sequence = 128;
    private const int Hidden = 512;
    private const int Heads = 8;
    private const int HeadDim = Hidden / Heads;

    public string Name => "onnx-ops";

    public string Description => "ORT CPU: fused vs unfused attention / RMSNorm / rotary formulations (B8 S128 H512 8 heads)";

    public Task RunAsync(BenchmarkContext context, string[] args)
    {
        var seconds = double.Parse(Option(args, "--seconds") ?? "1", CultureInfo.InvariantCulture);
        var rounds = int.Parse(Option(args, "--rounds") ?? "5", CultureInfo.InvariantCulture);
        var threads = int.Parse(Option(args, "--threads") ?? "0", CultureInfo.InvariantCulture);
        BenchmarkContext.Report($"# ORT {OrtEnv.Instance().GetVersionString()}, CPU provider, ORT_ENABLE_ALL, intra-op threads {(threads == 0 ? "default" : threads)}; " +
            $"{rounds} interleaved rounds of ≥{seconds} s per case, reporting the median and the best round; load average {LoadAverage()}");
        if (args.Contains("--gemm"))
        {
            Int8Gemm(seconds, rounds, threads);
            BenchmarkContext.Report($"# load average at the end: {LoadAverage()}");
            return Task.CompletedTask;
        }

        var cases = new List<Case>();
        var x = Random(1, Batch * Sequence * Hidden);
        var mask = LeftPaddedMask();
        foreach (var kvHeads in new[] { Heads, 2 })
        {
            var kv = Random(2, Batch * Sequence * kvHeads * HeadDim);
            Input[] inputs =
            [
                new("q", x, [Batch, Sequence, Hidden]),
                new("k", kv, [Batch, Sequence, kvHeads * HeadDim]),
                new("v", kv, [Batch, Sequence, kvHeads * HeadDim]),
                new("attention_mask", mask, [Batch, Sequence]),
            ];
            var group = $"attention, {Heads} query heads / {kvHeads} KV heads (includes building the causal+padding bias)";
            foreach (var formulation in Enum.GetValues<AttentionFormulation>())
            {
                var g = Builder(formulation == AttentionFormulation.OnnxAttention ? 23 : 21);
                var q = g.AddInput("q", DataType.Float, ["batch", "sequence", Hidden]);
                var k = g.AddInput("k", DataType.Float, ["batch", "sequence", kvHeads * HeadDim]);
                var v = g.AddInput("v", DataType.Float, ["batch", "sequence", kvHeads * HeadDim]);
                var m = g.AddInput("attention_mask", DataType.Int64, ["batch", "sequence"]);
                g.AddOutput(g.Attention(q, k, v, g.CausalPaddingBias(m), Heads, kvHeads, HeadDim, formulation), DataType.Float, ["batch", "sequence", Hidden], "y");
                cases.Add(new Case(group, formulation.ToString(), nameof(AttentionFormulation.MatMulSoftmax), g, inputs, threads));
            }
        }

        var weight = Random(3, Hidden).Select(w => 1f + (0.1f * w)).ToArray();
        var residual = Random(4, Batch * Sequence * Hidden);
        Input[] normInputs = [new("x", x, [Batch, Sequence, Hidden]), new("residual", residual, [Batch, Sequence, Hidden])];
        const string norms = "RMSNorm (hidden 512)";
        foreach (var formulation in Enum.GetValues<RmsNormFormulation>())
        {
            var g = Builder(formulation == RmsNormFormulation.RmsNormalization ? 23 : 21);
            var input = g.AddInput("x", DataType.Float, ["batch", "sequence", Hidden]);
            g.AddInput("residual", DataType.Float, ["batch", "sequence", Hidden]);
            g.AddOutput(g.RmsNorm(input, g.AddInitializer("w", weight, [Hidden]), 1e-6f, formulation), DataType.Float, ["batch", "sequence", Hidden], "y");
            cases.Add(new Case(norms, formulation.ToString(), nameof(RmsNormFormulation.OpChain), g, normInputs, threads));
        }

        const string skipNorms = "residual add + RMSNorm (hidden 512; both outputs)";
        foreach (var fused in new[] { true, false })
        {
            var g = Builder(21);
            var input = g.AddInput("x", DataType.Float, ["batch", "sequence", Hidden]);
            var res = g.AddInput("residual", DataType.Float, ["batch", "sequence", Hidden]);
            var (normed, sum) = g.SkipRmsNorm(input, res, g.AddInitializer("w", weight, [Hidden]), 1e-6f, fused);
            g.AddOutput(normed, DataType.Float, ["batch", "sequence", Hidden], "y");
            g.AddOutput(sum, DataType.Float, ["batch", "sequence", Hidden], "sum");
            cases.Add(new Case(skipNorms, fused ? "SkipSimplifiedLayerNormalization" : "Add + SimplifiedLayerNormalization", "Add + SimplifiedLayerNormalization", g, normInputs, threads));
        }

        var positions = new long[3 * Batch * Sequence];
        for (var i = 0; i < positions.Length; i++)
        {
            positions[i] = i % Sequence;
        }

        Input[] rotaryInputs = [new("q", x, [Batch, Sequence, Hidden]), new("position_ids", positions, [3, Batch, Sequence])];
        var invFreq = Enumerable.Range(0, HeadDim / 2).Select(k => (float)(1.0 / Math.Pow(1e6, 2.0 * k / HeadDim))).ToArray();
        const string rotary = "M-RoPE on q (cos/sin from the 3 position streams included)";
        foreach (var formulation in Enum.GetValues<RotaryFormulation>())
        {
            var g = Builder(formulation == RotaryFormulation.OnnxRotaryPerTokenCache ? 23 : 21);
            var q = g.AddInput("q", DataType.Float, ["batch", "sequence", Hidden]);
            var p = g.AddInput("position_ids", DataType.Int64, [3, "batch", "sequence"]);
            var (cos, sin) = g.MropeCosSin(p, invFreq, [8, 12, 12]);
            g.AddOutput(g.ApplyRotary(q, cos, sin, Heads, HeadDim, formulation), DataType.Float, ["batch", "sequence", Hidden], "y");
            cases.Add(new Case(rotary, formulation.ToString(), nameof(RotaryFormulation.Explicit), g, rotaryInputs, threads));
        }

        try
        {
            for (var round = 0; round < rounds; round++)
            {
                foreach (var item in cases)
                {
                    item.MeasureRound(seconds);
                }
            }

            foreach (var group in cases.GroupBy(c => c.Group))
            {
                var baseline = group.First(c => c.Name == c.Baseline).Median;
                BenchmarkContext.Report(string.Empty);
                BenchmarkContext.Report($"## {group.Key}");
                foreach (var item in group)
                {
                    BenchmarkContext.Report(FormattableString.Invariant(
                        $"  {item.Name,-34} median {item.Median,7:F3} ms  best {item.Best,7:F3} ms   ×{baseline / item.Median,5:F2} vs {item.Baseline}   [{item.Nodes}]"));
                }
            }
        }
        finally
        {
            cases.ForEach(c => c.Dispose());
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// The int8 candidates on the mid config's GEMM shapes (weights N(0, 0.02²), activations N(0, 1)): GFLOP/s counted as
    /// 2·M·K·N over the median time, and the relative error ‖Y − Y_fp32‖ / ‖Y_fp32‖. For MatMulNBits also the error
    /// against the fp32 product with the dequantized weights, which is rounding-level when the op computes exactly what
    /// <see cref="BlockwiseInt8Quantizer"/> encodes (layout, default zero point 128) and shows the activation
    /// quantization of accuracy level 4.
    /// </summary>
    private static void Int8Gemm(double seconds, int rounds, int threads)
    {
        var shapes = new (int M, int K, int N, string Where)[]
        {
            (1024, 256, 1024, "vision fc1, 1 image"),
            (1024, 1024, 256, "vision fc2, 1 image"),
            (264, 512, 5632, "decoder gate+up, 1 image row"),
            (264, 2816, 512, "decoder down, 1 image row"),
            (25, 512, 5632, "decoder gate+up, 1 text row"),
            (200, 512, 5632, "decoder gate+up, 8 text rows"),
        };
        foreach (var (m, k, n, where) in shapes)
        {
            var random = new Random(7);
            var weights = Normal(random, n * k, 0.02f);
            var activations = Normal(random, m * k, 1f);
            Input[] inputs = [new("a", activations, [m, k])];
            var transposed = new float[k * n];
            for (var row = 0; row < n; row++)
            {
                for (var col = 0; col < k; col++)
                {
                    transposed[(col * n) + row] = weights[(row * k) + col];
                }
            }

            var cases = new List<(Case Case, float[]? Dequantized)>();
            OnnxGraphBuilder Graph(Func<OnnxGraphBuilder, string, string> body)
            {
                var g = Builder(21);
                var a = g.AddInput("a", DataType.Float, [m, k]);
                g.AddOutput(body(g, a), DataType.Float, [m, n], "y");
                return g;
            }

            var group = Invariant($"{m} × {k} × {n} ({where})");
            cases.Add((new Case(group, "fp32 MatMul", "fp32 MatMul", Graph((g, a) => g.MatMul(a, g.AddInitializer("b", transposed, [k, n]))), inputs, threads), null));
            foreach (var blockSize in new[] { 32, 64, 128 })
            {
                var quantizer = new BlockwiseInt8Quantizer(blockSize);
                var (codes, scales) = quantizer.Quantize(weights, n, k);
                var dequantized = quantizer.Dequantize(codes, scales, n, k);
                var blocks = quantizer.BlocksPerRow(k);
                foreach (var level in new[] { 0, 4 })
                {
                    var g = Graph((g, a) => g.MatMulNBits(a, g.AddInitializer("b", codes, [n, blocks, blockSize]), g.AddInitializer("scales", scales, [n, blocks]), k, n, blockSize, 8, level));
                    cases.Add((new Case(group, Invariant($"MatMulNBits 8-bit, block {blockSize}, accuracy {level}"), "fp32 MatMul", g, inputs, threads), dequantized));
                }
            }

            // Per output column symmetric int8, B (K, N) int8: what the int8 bundle writes.
            var columnScales = PerChannelInt8Quantizer.Scales(weights, n, k);
            var columnCodes = PerChannelInt8Quantizer.TransposedCodes(weights, columnScales, n, k);
            cases.Add((new Case(group, "DynamicQuantizeMatMul (int8 per column)", "fp32 MatMul",
                Graph((g, a) => g.DynamicQuantizeMatMul(a, g.AddInitializer("b", columnCodes, [k, n]), g.AddInitializer("b_scale", columnScales, [n]))), inputs, threads), null));
            cases.Add((new Case(group, "DynamicQuantizeLinear + MatMulInteger", "fp32 MatMul", Graph((g, a) =>
            {
                var (q, scale, zero) = g.DynamicQuantizeLinear(a);
                var product = g.MatMulInteger(q, g.AddInitializer("b", columnCodes, [k, n]), zero);
                return g.Mul(g.Cast(product, DataType.Float), g.Mul(scale, g.AddInitializer("b_scale", columnScales, [n])));
            }), inputs, threads), null));

            try
            {
                for (var round = 0; round < rounds; round++)
                {
                    cases.ForEach(c => c.Case.MeasureRound(seconds));
                }

                var reference = cases[0].Case.Output();
                var flop = 2.0 * m * k * n;
                var baseline = cases[0].Case.Median;
                BenchmarkContext.Report(string.Empty);
                BenchmarkContext.Report($"## {group}  (load {LoadAverage().Split(' ')[0]})");
                foreach (var (item, dequantized) in cases)
                {
                    var output = item.Output();
                    var exact = dequantized is null ? "" : Invariant($"  vs A·dequant(W) {RelativeError(output, DequantizedProduct(activations, dequantized, m, k, n)):E1}");
                    BenchmarkContext.Report(Invariant(
                        $"  {item.Name,-42} {flop / item.Median / 1e6,7:F1} GFLOP/s  ×{baseline / item.Median,5:F2}  error vs fp32 {RelativeError(output, reference):E1}{exact}   [{item.Nodes}]"));
                }
            }
            finally
            {
                cases.ForEach(c => c.Case.Dispose());
            }
        }
    }

    private static float[] DequantizedProduct(float[] a, float[] weights, int m, int k, int n)
    {
        var y = new float[m * n];
        for (var row = 0; row < m; row++)
        {
            var x = a.AsSpan(row * k, k);
            for (var col = 0; col < n; col++)
            {
                y[(row * n) + col] = System.Numerics.Tensors.TensorPrimitives.Dot(x, weights.AsSpan(col * k, k));
            }
        }

        return y;
    }

    private static double RelativeError(float[] actual, float[] expected)
    {
        double difference = 0, norm = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            difference += (double)(actual[i] - expected[i]) * (actual[i] - expected[i]);
            norm += (double)expected[i] * expected[i];
        }

        return Math.Sqrt(difference / norm);
    }

    private static float[] Normal(Random random, int count, float std)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = std * (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        }

        return values;
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static OnnxGraphBuilder Builder(int opset) => new(new OnnxGraphBuilderOptions { OpsetVersion = opset });

    private static float[] Random(int seed, int count)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
    }

    private static long[] LeftPaddedMask()
    {
        var mask = new long[Batch * Sequence];
        for (var b = 0; b < Batch; b++)
        {
            var real = Sequence - (b * 11);
            for (var s = Sequence - real; s < Sequence; s++)
            {
                mask[(b * Sequence) + s] = 1;
            }
        }

        return mask;
    }

    private static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    private sealed record Input(string Name, Array Data, long[] Shape);

    /// <summary>One formulation: an open session, its inputs, and the per-round timings.</summary>
    private sealed class Case : IDisposable
    {
        private readonly InferenceSession _session;
        private readonly List<OrtValue> _values;
        private readonly string[] _names;
        private readonly RunOptions _runOptions = new();
        private readonly List<double> _milliseconds = [];

        public Case(string group, string name, string baseline, OnnxGraphBuilder graph, Input[] inputs, int threads)
        {
            Group = group;
            Name = name;
            Baseline = baseline;
            var optimized = Path.Combine(Path.GetTempPath(), $"vlm2vec-onnx-ops-{Guid.NewGuid():N}.onnx");
            using var options = new SessionOptions
            {
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
                OptimizedModelFilePath = optimized,
                LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
            };
            if (threads > 0)
            {
                options.IntraOpNumThreads = threads;
            }

            _session = new InferenceSession(graph.ToBytes(), options);
            Nodes = OptimizedNodes(optimized);
            _names = inputs.Select(i => i.Name).ToArray();
            _values = inputs.Select(i => i.Data switch
            {
                float[] f => OrtValue.CreateTensorValueFromMemory(f, i.Shape),
                long[] l => OrtValue.CreateTensorValueFromMemory(l, i.Shape),
                _ => throw new InvalidOperationException($"Unsupported input {i.Name}"),
            }).ToList();
        }

        public string Group { get; }

        public string Name { get; }

        public string Baseline { get; }

        /// <summary>The nodes ORT kept after its own fusions (from the optimized model it wrote).</summary>
        public string Nodes { get; }

        public double Median => _milliseconds.Order().ElementAt(_milliseconds.Count / 2);

        public double Best => _milliseconds.Min();

        /// <summary>Runs once and returns the first output as floats.</summary>
        public float[] Output()
        {
            using var outputs = _session.Run(_runOptions, _names, _values, _session.OutputNames);
            return outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }

        public void MeasureRound(double seconds)
        {
            var rate = BenchmarkContext.MeasureRate(
                () =>
                {
                    using var outputs = _session.Run(_runOptions, _names, _values, _session.OutputNames);
                },
                seconds);
            _milliseconds.Add(1000.0 / rate);
        }

        public void Dispose()
        {
            _values.ForEach(v => v.Dispose());
            _runOptions.Dispose();
            _session.Dispose();
        }

        private static string OptimizedNodes(string path)
        {
            try
            {
                var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
                var counts = model.Graph.Node.GroupBy(n => n.OpType).Select(group => group.Count() == 1 ? group.Key : $"{group.Key}×{group.Count()}");
                return $"{model.Graph.Node.Count} nodes: {string.Join(" ", counts)}";
            }
            finally
            {
                File.Delete(path);
            }
        }
    }
}
