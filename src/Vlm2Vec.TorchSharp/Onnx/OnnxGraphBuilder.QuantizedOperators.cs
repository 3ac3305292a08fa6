using Onnx;
using static Vlm2Vec.TorchSharp.Onnx.OnnxAttributes;

namespace Vlm2Vec.TorchSharp.Onnx;

/// <summary>
/// Typed helpers for the integer-arithmetic MatMul operators (ONNX Runtime's <c>docs/ContribOperators.md</c> and the
/// ai.onnx quantization operators). Which one the int8 bundle uses, and why, is in <c>Onnx/README.md</c>.
/// </summary>
internal sealed partial class OnnxGraphBuilder
{
    /// <summary>
    /// com.microsoft MatMulNBits: <c>Y = A · dequant(B)ᵀ (+ bias)</c> with A (…, K) float, B (N, k_blocks, blob_size) uint8
    /// codes of <paramref name="bits"/> bits packed low-first along K, per-block <paramref name="scales"/> (N, k_blocks) of
    /// A's type, and optional <paramref name="zeroPoints"/> (default 2^(bits−1)). <paramref name="accuracyLevel"/> is the
    /// minimum precision of the arithmetic: 0 = unset (float), 4 = int8 activations with int32 accumulation (VNNI on x64).
    /// </summary>
    public string MatMulNBits(
        string a,
        string b,
        string scales,
        long k,
        long n,
        long blockSize,
        long bits = 8,
        long accuracyLevel = 0,
        string? zeroPoints = null,
        string? bias = null) =>
        AddNode(
            "MatMulNBits",
            [a, b, scales, zeroPoints ?? string.Empty, string.Empty, bias ?? string.Empty],
            attributes: [Int("K", k), Int("N", n), Int("bits", bits), Int("block_size", blockSize), Int("accuracy_level", accuracyLevel)],
            domain: MicrosoftDomain)[0];

    /// <summary>
    /// com.microsoft DynamicQuantizeMatMul: A (…, K) float is quantized to uint8 per tensor at run time, multiplied with
    /// B (K, N) int8/uint8 and rescaled by <c>a_scale · b_scale</c> (b_scale scalar or per column (N)); optional bias (N).
    /// </summary>
    public string DynamicQuantizeMatMul(string a, string b, string bScale, string? bZeroPoint = null, string? bias = null) =>
        MicrosoftOp("DynamicQuantizeMatMul", [a, b, bScale, bZeroPoint ?? string.Empty, bias ?? string.Empty]);

    /// <summary>ai.onnx DynamicQuantizeLinear: x float → (uint8 y, float scale, uint8 zero point), per tensor.</summary>
    public (string Y, string Scale, string ZeroPoint) DynamicQuantizeLinear(string x)
    {
        var outputs = AddNode("DynamicQuantizeLinear", [x], outputCount: 3);
        return (outputs[0], outputs[1], outputs[2]);
    }

    /// <summary>ai.onnx MatMulInteger: <c>(A − a_zero_point) · (B − b_zero_point)</c> in int32.</summary>
    public string MatMulInteger(string a, string b, string? aZeroPoint = null, string? bZeroPoint = null) =>
        Op("MatMulInteger", [a, b, aZeroPoint ?? string.Empty, bZeroPoint ?? string.Empty]);
}
