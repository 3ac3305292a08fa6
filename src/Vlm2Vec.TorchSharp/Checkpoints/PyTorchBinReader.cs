using System.Collections;
using global::TorchSharp.PyBridge;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Checkpoints;

/// <summary>
/// Reads <c>torch.save</c> state dicts (<c>pytorch_model*.bin</c>, <c>adapter_model.bin</c>) with TorchSharp.PyBridge's
/// unpickler, which streams each tensor from the zip entry into tensor memory. Its errors become
/// <see cref="ModelFormatException"/>s naming the file.
/// </summary>
/// <remarks>
/// Limits inherited from PyBridge 1.4.4: only the zip format of PyTorch ≥ 1.6 (not the legacy tar/pickle format), and no
/// tensors that are views into a shared storage at a non-zero offset (Hugging Face and PEFT never save such views).
/// </remarks>
internal static class PyTorchBinReader
{
    /// <summary>Reads every tensor of the file; the caller owns them.</summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new ModelFormatException($"PyTorch checkpoint '{path}' does not exist.");
        }

        Hashtable table;
        try
        {
            table = PyTorchUnpickler.UnpickleStateDict(path);
        }
        catch (Exception ex) when (ex is NotImplementedException or NotSupportedException or InvalidDataException or InvalidCastException
                                       or InvalidOperationException or IOException or ArgumentException or KeyNotFoundException
                                       or Razorvine.Pickle.PickleException)
        {
            throw new ModelFormatException(
                $"'{path}' could not be read as a PyTorch state dict (torch.save zip format, PyTorch ≥ 1.6): {ex.Message}", ex);
        }

        var result = new Dictionary<string, Tensor>(table.Count, StringComparer.Ordinal);
        string? bad = null;
        foreach (DictionaryEntry entry in table)
        {
            if (entry.Key is string key && entry.Value is Tensor tensor)
            {
                result[key] = tensor;
            }
            else
            {
                bad ??= $"{entry.Key} ({entry.Value?.GetType().Name ?? "null"})";
            }
        }

        if (bad is not null)
        {
            foreach (var tensor in result.Values)
            {
                tensor.Dispose();
            }

            throw new ModelFormatException($"'{path}' is not a flat state dict of tensors: entry {bad}.");
        }

        return result;
    }
}
