using Google.Protobuf;
using Onnx;

namespace Vlm2Vec.TorchSharp.Onnx;

/// <summary>
/// Writes an <see cref="OnnxGraphBuilder"/>'s model as <c>model.onnx</c> plus one external data file
/// (<c>model.onnx_data</c>) holding every initializer above <see cref="OnnxWriteOptions.InlineThresholdBytes"/> at
/// aligned offsets, with <c>location</c>/<c>offset</c>/<c>length</c> entries — the layout ORT needs for models over
/// the 2 GB protobuf limit. Both files are written into a hidden temporary folder beside the destination and moved
/// into place only when complete (data file first, model last), so a crash or cancellation never leaves a model that
/// looks valid but is truncated.
/// </summary>
internal static class OnnxModelWriter
{
    /// <summary>Writes the model; returns the paths written (model, and data file when any tensor is external).</summary>
    public static OnnxWrittenModel Write(
        OnnxGraphBuilder builder,
        string modelPath,
        OnnxWriteOptions? options = null,
        IProgress<OnnxWriteProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        options ??= new OnnxWriteOptions();
        if (options.ExternalDataAlignment <= 0 || (options.ExternalDataAlignment & (options.ExternalDataAlignment - 1)) != 0)
        {
            throw new ArgumentException($"ExternalDataAlignment must be a positive power of two; got {options.ExternalDataAlignment}.", nameof(options));
        }

        var fullModelPath = Path.GetFullPath(modelPath);
        var folder = Path.GetDirectoryName(fullModelPath)!;
        var modelFileName = Path.GetFileName(fullModelPath);
        var dataFileName = options.ExternalDataFileName ?? modelFileName + "_data";
        if (dataFileName.IndexOfAny(['/', '\\']) >= 0 || dataFileName == modelFileName)
        {
            throw new ArgumentException($"The external data file name '{dataFileName}' must be a plain file name other than the model's.", nameof(options));
        }

        Directory.CreateDirectory(folder);
        var staging = Path.Combine(folder, $".{modelFileName}.tmp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            var stagedData = Path.Combine(staging, dataFileName);
            var stagedModel = Path.Combine(staging, modelFileName);
            var externalCount = WriteFiles(builder, stagedModel, stagedData, dataFileName, options, progress, cancellationToken);

            var finalData = Path.Combine(folder, dataFileName);
            if (externalCount > 0)
            {
                File.Move(stagedData, finalData, overwrite: true);
            }
            else if (File.Exists(finalData))
            {
                // A data file left from an earlier export would describe a different model.
                File.Delete(finalData);
            }

            File.Move(stagedModel, fullModelPath, overwrite: true);
            return new OnnxWrittenModel(fullModelPath, externalCount > 0 ? finalData : null, externalCount);
        }
        finally
        {
            TryDeleteFolder(staging);
        }
    }

    /// <summary>Asynchronous form of <see cref="Write"/> (runs on the thread pool; cancellable between chunks).</summary>
    public static Task<OnnxWrittenModel> WriteAsync(
        OnnxGraphBuilder builder,
        string modelPath,
        OnnxWriteOptions? options = null,
        IProgress<OnnxWriteProgress>? progress = null,
        CancellationToken cancellationToken = default) =>
        Task.Run(() => Write(builder, modelPath, options, progress, cancellationToken), cancellationToken);

    private static int WriteFiles(
        OnnxGraphBuilder builder,
        string modelPath,
        string dataPath,
        string dataFileName,
        OnnxWriteOptions options,
        IProgress<OnnxWriteProgress>? progress,
        CancellationToken cancellationToken)
    {
        var initializers = builder.Initializers;
        long totalBytes = 0;
        foreach (var initializer in initializers)
        {
            totalBytes += initializer.Data.ByteLength;
        }

        long bytesWritten = 0;
        var externalCount = 0;
        var index = 0;
        FileStream? data = null;
        try
        {
            var model = builder.ToModelProto(initializer =>
            {
                cancellationToken.ThrowIfCancellationRequested();
                var tensor = initializer.CreateTensorHeader();
                var length = initializer.Data.ByteLength;
                var current = index;
                void Report(long written)
                {
                    bytesWritten += written;
                    progress?.Report(new OnnxWriteProgress(initializer.Name, current, initializers.Count, bytesWritten, totalBytes));
                }

                if (initializer.KeepInline || length <= options.InlineThresholdBytes)
                {
                    tensor.RawData = ByteString.CopyFrom(initializer.Data.ToArray());
                    Report(length);
                }
                else
                {
                    data ??= new FileStream(dataPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
                    Pad(data, options.ExternalDataAlignment);
                    var offset = data.Position;
                    initializer.Data.WriteTo(data, Report, cancellationToken);
                    if (data.Position - offset != length)
                    {
                        throw new InvalidOperationException($"Initializer '{initializer.Name}' wrote {data.Position - offset} bytes; {length} were expected.");
                    }

                    tensor.DataLocation = TensorProto.Types.DataLocation.External;
                    tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = dataFileName });
                    tensor.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                    tensor.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = length.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                    externalCount++;
                }

                index++;
                return tensor;
            });

            if (data is not null)
            {
                data.Flush(flushToDisk: true);
            }

            using var modelStream = new FileStream(modelPath, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            model.WriteTo(modelStream);
            modelStream.Flush(flushToDisk: true);
        }
        finally
        {
            data?.Dispose();
        }

        return externalCount;
    }

    private static void Pad(FileStream stream, int alignment)
    {
        var remainder = (int)(stream.Position % alignment);
        if (remainder != 0)
        {
            Span<byte> zeros = stackalloc byte[alignment - remainder];
            zeros.Clear();
            stream.Write(zeros);
        }
    }

    private static void TryDeleteFolder(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (IOException)
        {
            // Best effort: a leftover hidden staging folder is harmless and never mistaken for a model.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
