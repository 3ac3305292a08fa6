using System.Globalization;
using System.Text.Json;
using Vlm2Vec.TorchSharp.Checkpoints;
using global::TorchSharp.Modules;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Training;

/// <summary>
/// Checkpoints of a run under <c>&lt;output&gt;/checkpoints/step-NNNNNNN/</c>: <c>trainable.safetensors</c> (every
/// trainable parameter by name, in its own type), <c>optimizer.bin</c> (AdamW moments and step counts, TorchSharp's
/// optimiser format) and <c>trainer_state.json</c>. A checkpoint is written into a temporary folder and renamed into
/// place, so a process killed at any moment leaves either the complete checkpoint or none; leftovers of an
/// interrupted write are removed on the next start.
/// </summary>
internal static class TrainingCheckpoint
{
    public const string FolderName = "checkpoints";
    public const string StateFileName = "trainer_state.json";
    public const string WeightsFileName = "trainable.safetensors";
    public const string OptimizerFileName = "optimizer.bin";
    private const string StepPrefix = "step-";
    private const string TemporaryPrefix = ".tmp-";

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Writes a checkpoint and deletes all but the newest <paramref name="keep"/>. Returns its folder.</summary>
    public static string Save(string outputFolder, TrainerState state, IReadOnlyList<(string Name, Parameter Parameter)> trainable, OptimizerHelper optimizer, int keep)
    {
        var root = Path.Combine(outputFolder, FolderName);
        Directory.CreateDirectory(root);
        var name = StepPrefix + state.Step.ToString("D7", CultureInfo.InvariantCulture);
        var temporary = Path.Combine(root, $"{TemporaryPrefix}{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temporary);
        try
        {
            var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var (parameterName, parameter) in trainable)
            {
                tensors[parameterName] = parameter.detach();
            }

            SafetensorsFile.Write(Path.Combine(temporary, WeightsFileName), tensors);
            foreach (var tensor in tensors.Values)
            {
                tensor.Dispose();
            }

            using (var stream = new FileStream(Path.Combine(temporary, OptimizerFileName), FileMode.CreateNew, FileAccess.Write))
            {
                using var writer = new BinaryWriter(stream);
                optimizer.save_state_dict(writer);
                writer.Flush();
                stream.Flush(flushToDisk: true);
            }

            WriteDurably(Path.Combine(temporary, StateFileName), JsonSerializer.SerializeToUtf8Bytes(state, Json));

            var final = Path.Combine(root, name);
            if (Directory.Exists(final))
            {
                Directory.Delete(final, recursive: true);
            }

            Directory.Move(temporary, final);
            Prune(root, keep);
            return final;
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>The newest complete checkpoint of a run folder, or null.</summary>
    public static string? FindLatest(string outputFolder)
    {
        var root = Path.Combine(outputFolder, FolderName);
        if (!Directory.Exists(root))
        {
            return null;
        }

        return StepFolders(root).Where(IsComplete).Select(f => f.Path).LastOrDefault();
    }

    /// <summary>Removes temporary folders left by a write that was interrupted.</summary>
    public static void RemoveTemporaries(string outputFolder)
    {
        var root = Path.Combine(outputFolder, FolderName);
        if (!Directory.Exists(root))
        {
            return;
        }

        foreach (var folder in Directory.EnumerateDirectories(root, TemporaryPrefix + "*"))
        {
            TryDelete(folder);
        }
    }

    /// <summary>Reads a checkpoint's state.</summary>
    /// <exception cref="ModelFormatException">Not a complete checkpoint, or an unknown format.</exception>
    public static TrainerState ReadState(string checkpoint)
    {
        if (!IsComplete((0, checkpoint)))
        {
            throw new ModelFormatException($"'{checkpoint}' is not a complete training checkpoint ({StateFileName}, {WeightsFileName} and {OptimizerFileName} are required).");
        }

        TrainerState? state;
        try
        {
            state = JsonSerializer.Deserialize<TrainerState>(File.ReadAllBytes(Path.Combine(checkpoint, StateFileName)), Json);
        }
        catch (JsonException ex)
        {
            throw new ModelFormatException($"The checkpoint state '{Path.Combine(checkpoint, StateFileName)}' is not valid: {ex.Message}", ex);
        }

        if (state is null || state.Format != TrainerState.CurrentFormat)
        {
            throw new ModelFormatException($"The checkpoint '{checkpoint}' has format '{state?.Format}'; this version reads '{TrainerState.CurrentFormat}'.");
        }

        return state;
    }

    /// <summary>Loads the trainable weights and the optimiser state of a checkpoint into the model and optimiser.</summary>
    /// <exception cref="ModelFormatException">The checkpoint's tensors do not match the trainable parameters.</exception>
    public static void Restore(string checkpoint, IReadOnlyList<(string Name, Parameter Parameter)> trainable, OptimizerHelper optimizer)
    {
        using (var file = SafetensorsFile.Open(Path.Combine(checkpoint, WeightsFileName)))
        {
            var expected = trainable.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
            var stored = file.Tensors.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
            if (!expected.SetEquals(stored))
            {
                var missing = expected.Except(stored).Take(5).ToList();
                var extra = stored.Except(expected).Take(5).ToList();
                throw new ModelFormatException(
                    $"Checkpoint '{checkpoint}' holds other trainable parameters than this run (missing: {string.Join(", ", missing)}; unexpected: {string.Join(", ", extra)}). Was it written with another mode or adapter config?");
            }

            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            foreach (var (name, parameter) in trainable)
            {
                var tensor = file.ReadTensor(name);
                if (!tensor.shape.SequenceEqual(parameter.shape) || tensor.dtype != parameter.dtype)
                {
                    throw new ModelFormatException(
                        $"Checkpoint tensor {name} is {tensor.dtype} [{string.Join(", ", tensor.shape)}]; the parameter is {parameter.dtype} [{string.Join(", ", parameter.shape)}].");
                }

                parameter.copy_(tensor);
            }
        }

        try
        {
            using var stream = File.OpenRead(Path.Combine(checkpoint, OptimizerFileName));
            using var reader = new BinaryReader(stream);
            optimizer.load_state_dict(reader);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidDataException or EndOfStreamException)
        {
            throw new ModelFormatException($"The optimiser state of checkpoint '{checkpoint}' does not fit this run: {ex.Message}", ex);
        }
    }

    /// <summary>Writes a file through a temporary file, flushed to disk, and a rename.</summary>
    internal static void WriteDurably(string path, ReadOnlySpan<byte> bytes)
    {
        var temporary = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }

            throw;
        }
    }

    private static void Prune(string root, int keep)
    {
        var folders = StepFolders(root).ToList();
        for (var i = 0; i < folders.Count - Math.Max(1, keep); i++)
        {
            TryDelete(folders[i].Path);
        }
    }

    private static IEnumerable<(int Step, string Path)> StepFolders(string root) =>
        Directory.EnumerateDirectories(root, StepPrefix + "*")
            .Select(path => (Ok: int.TryParse(Path.GetFileName(path).AsSpan(StepPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var step), Step: step, Path: path))
            .Where(f => f.Ok)
            .Select(f => (f.Step, f.Path))
            .OrderBy(f => f.Step);

    private static bool IsComplete((int Step, string Path) folder) =>
        File.Exists(Path.Combine(folder.Path, StateFileName))
        && File.Exists(Path.Combine(folder.Path, WeightsFileName))
        && File.Exists(Path.Combine(folder.Path, OptimizerFileName));

    private static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover is removed by the next start.
        }
    }
}
