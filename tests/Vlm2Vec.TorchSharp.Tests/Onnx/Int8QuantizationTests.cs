using Vlm2Vec.TorchSharp.Onnx;
using Xunit.Abstractions;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Vlm2Vec.TorchSharp.Tests.Onnx;

/// <summary>
/// The int8 bundle's weight quantizer (<see cref="PerChannelInt8Quantizer"/>) and the operator it feeds
/// (com.microsoft DynamicQuantizeMatMul): the dequantized weights are within half a step of the float32 ones, and ORT
/// computes exactly <c>A · dequant(W)ᵀ</c> from the codes and scales when A's own quantization is exact.
/// </summary>
public sealed class Int8QuantizationTests(ITestOutputHelper output)
{
    [Fact]
    public void Dequantized_weights_are_within_half_a_step_of_the_float32_weights()
    {
        const int n = 48, k = 80;
        var weights = Numerics.Normal(21, n * k, std: 0.05);
        weights[(3 * k) + 7] = 1.5f; // an outlier widens row 3's step only
        Array.Clear(weights, 5 * k, k); // an all-zero output channel

        var scales = PerChannelInt8Quantizer.Scales(weights, n, k);
        var codes = PerChannelInt8Quantizer.TransposedCodes(weights, scales, n, k);
        var dequantized = PerChannelInt8Quantizer.Dequantize(codes, scales, n, k);

        Assert.Equal(0f, scales[5]);
        Assert.Equal(1.5f / 127, scales[3], 1e-9f);
        double worstSteps = 0;
        for (var row = 0; row < n; row++)
        {
            var largest = 0;
            for (var col = 0; col < k; col++)
            {
                var code = codes[(col * n) + row];
                Assert.InRange(code, -127, 127);
                largest = Math.Max(largest, Math.Abs(code));
                var error = Math.Abs(dequantized[(row * k) + col] - weights[(row * k) + col]);
                Assert.True(error <= (scales[row] / 2) * (1 + 1e-5), $"W[{row}, {col}] = {weights[(row * k) + col]} dequantizes to {dequantized[(row * k) + col]} (step {scales[row]})");
                if (scales[row] > 0)
                {
                    worstSteps = Math.Max(worstSteps, error / scales[row]);
                }
            }

            // The largest weight of every non-zero channel uses the full code range.
            Assert.Equal(row == 5 ? 0 : 127, largest);
        }

        Assert.Equal(-1.5f, PerChannelInt8Quantizer.Dequantize(PerChannelInt8Quantizer.TransposedCodes([-1.5f, 0.75f], [1.5f / 127], 1, 2), [1.5f / 127], 1, 2)[0], 1e-6f);
        output.WriteLine($"worst |dequantized − w| = {worstSteps:F3} steps");
    }

    [Fact]
    public void DynamicQuantizeMatMul_computes_the_product_with_the_dequantized_weights()
    {
        // Activations are integers 0…255 with both ends present: ORT's per-tensor uint8 quantization of A is then exact
        // (scale 1, zero point 0), so the only difference from A · dequant(W)ᵀ is float rounding. This pins the layout
        // (B is (K, N), the transposed weight), the per-column scales and the absent zero point.
        const int m = 6, n = 40, k = 96;
        var random = new Random(5);
        var a = new float[m * k];
        for (var i = 0; i < a.Length; i++)
        {
            a[i] = random.Next(0, 256);
        }

        a[0] = 0;
        a[1] = 255;
        var weights = Numerics.Normal(22, n * k, std: 0.05);
        var bias = Numerics.Normal(23, n, std: 0.5);
        var scales = PerChannelInt8Quantizer.Scales(weights, n, k);
        var codes = PerChannelInt8Quantizer.TransposedCodes(weights, scales, n, k);
        var dequantized = PerChannelInt8Quantizer.Dequantize(codes, scales, n, k);

        var g = new OnnxGraphBuilder();
        var input = g.AddInput("a", DataType.Float, ["rows", k]);
        var product = g.DynamicQuantizeMatMul(input, g.AddInitializer("b", codes, [k, n]), g.AddInitializer("b_scale", scales, [n]), bias: g.AddInitializer("bias", bias, [n]));
        g.AddOutput(product, DataType.Float, ["rows", n], "y");
        var y = OrtTestRunner.Run(g, [OrtInput.Of("a", a, m, k)])["y"].Floats;

        double worst = 0;
        for (var row = 0; row < m; row++)
        {
            for (var col = 0; col < n; col++)
            {
                double expected = bias[col], magnitude = Math.Abs(bias[col]);
                for (var i = 0; i < k; i++)
                {
                    expected += (double)a[(row * k) + i] * dequantized[(col * k) + i];
                    magnitude += Math.Abs((double)a[(row * k) + i] * dequantized[(col * k) + i]);
                }

                worst = Math.Max(worst, Math.Abs(y[(row * n) + col] - expected) / magnitude);
            }
        }

        Assert.True(worst <= 1e-6, $"DynamicQuantizeMatMul differs from A · dequant(W)ᵀ + bias by {worst:E2} (relative to Σ|terms|)");
        output.WriteLine($"DynamicQuantizeMatMul vs A · dequant(W)ᵀ + bias: {worst:E2}");
    }

    [Fact]
    public void Shapes_that_do_not_match_are_refused()
    {
        Assert.Throws<ArgumentException>(() => PerChannelInt8Quantizer.Scales(new float[10], 3, 4));
        Assert.Throws<ArgumentException>(() => PerChannelInt8Quantizer.TransposedCodes(new float[12], new float[2], 3, 4));
    }
}
