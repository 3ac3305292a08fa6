using System.Security.Cryptography;
using System.Text;
using Vlm2Vec.Cli.Output;

namespace Vlm2Vec.Cli.Search;

/// <summary>
/// Brings a <see cref="VectorIndex"/> up to date with a folder: embeds new and changed files as targets (changed = other
/// SHA-256 of the bytes, or another instruction), skips unchanged ones, removes entries of files that are gone. A file
/// that cannot be read or embedded (a corrupt image, an empty text) is recorded in the summary and the run goes on.
/// </summary>
internal sealed class FolderIndexer
{
    private const int PreviewLength = 120;

    /// <summary>Files above this are reported, not read (the image decoder's own default limit is the same).</summary>
    private const long MaxFileBytes = 64L * 1024 * 1024;

    private readonly Vlm2VecEmbedder _embedder;
    private readonly FolderIndexOptions _options;

    public FolderIndexer(Vlm2VecEmbedder embedder, FolderIndexOptions options)
    {
        ArgumentNullException.ThrowIfNull(embedder);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1, nameof(options));
        _embedder = embedder;
        _options = options;
    }

    /// <summary>Indexes the folder into <paramref name="index"/>; <paramref name="progress"/> counts files.</summary>
    public async Task<IndexSummary> RunAsync(VectorIndex index, IProgressView progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(progress);
        var model = _embedder.Encoder.Info;
        var files = SourceFile.Scan(_options.SourceFolder, _options.IncludeTextFiles);
        var summary = new IndexSummary { Found = files.Count };
        var existing = await index.ReadAllAsync(includeVectors: false, cancellationToken).ConfigureAwait(false);
        await index.WriteManifestAsync(model, _options.SourceFolder, cancellationToken).ConfigureAwait(false);

        var present = files.Select(f => f.Key).ToHashSet(StringComparer.Ordinal);
        var gone = existing.Keys.Where(k => !present.Contains(k)).ToList();
        if (gone.Count > 0)
        {
            await index.Items.DeleteAsync(gone, cancellationToken).ConfigureAwait(false);
            summary.Removed += gone.Count;
        }

        var bar = progress.Add(_options.ProgressLabel ?? $"indexing {files.Count} file(s)", Math.Max(files.Count, 1));
        var pending = new List<PendingFile>(_options.BatchSize);
        var done = 0;
        foreach (var file in files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            existing.TryGetValue(file.Key, out var previous);
            byte[] bytes;
            try
            {
                var length = new FileInfo(file.FullPath).Length;
                if (length > MaxFileBytes)
                {
                    await FailAsync(index, summary, file, previous, $"the file is {Output.ByteSize.Format(length)}; files above {Output.ByteSize.Format(MaxFileBytes)} are not indexed", cancellationToken).ConfigureAwait(false);
                    bar.Update(++done);
                    continue;
                }

                bytes = await File.ReadAllBytesAsync(file.FullPath, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                await FailAsync(index, summary, file, previous, $"cannot be read: {ex.Message}", cancellationToken).ConfigureAwait(false);
                bar.Update(++done);
                continue;
            }

            var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
            if (previous is not null
                && string.Equals(previous.ContentHash, hash, StringComparison.Ordinal)
                && string.Equals(previous.Instruction, _options.Instruction, StringComparison.Ordinal)
                && string.Equals(previous.ModelId, model.ModelId, StringComparison.Ordinal))
            {
                summary.Unchanged++;
                bar.Update(++done);
                continue;
            }

            pending.Add(new PendingFile(file, bytes, hash, previous));
            if (pending.Count == _options.BatchSize)
            {
                done += await FlushAsync(index, summary, pending, cancellationToken).ConfigureAwait(false);
                bar.Update(done);
            }
        }

        done += await FlushAsync(index, summary, pending, cancellationToken).ConfigureAwait(false);
        bar.Update(done);
        bar.Complete(summary.Failures.Count == 0 ? "done" : $"{summary.Failures.Count} failed");
        return summary;
    }

    private async Task<int> FlushAsync(VectorIndex index, IndexSummary summary, List<PendingFile> pending, CancellationToken cancellationToken)
    {
        if (pending.Count == 0)
        {
            return 0;
        }

        var model = _embedder.Encoder.Info;
        var inputs = new List<MultimodalInput>(pending.Count);
        var embeddable = new List<(PendingFile File, string Preview)>(pending.Count);
        foreach (var file in pending)
        {
            if (file.Source.Kind == SourceFileKind.Image)
            {
                inputs.Add(_options.ImageInput(file.Source, file.Bytes));
                embeddable.Add((file, $"image, {Output.ByteSize.Format(file.Bytes.Length)}"));
                continue;
            }

            var text = DecodeText(file.Bytes);
            if (string.IsNullOrWhiteSpace(text))
            {
                await FailAsync(index, summary, file.Source, file.Previous, "the text file is empty", cancellationToken).ConfigureAwait(false);
                continue;
            }

            inputs.Add(_options.TextInput(file.Source, text));
            embeddable.Add((file, Preview(text)));
        }

        var results = await _embedder.EmbedEachAsync(inputs, cancellationToken).ConfigureAwait(false);
        var records = new List<IndexedItem>(results.Count);
        for (var i = 0; i < results.Count; i++)
        {
            var (file, preview) = embeddable[i];
            if (results[i].Error is { } error)
            {
                await FailAsync(index, summary, file.Source, file.Previous, error.InnerException?.Message ?? error.Message, cancellationToken).ConfigureAwait(false);
                continue;
            }

            records.Add(new IndexedItem
            {
                Key = file.Source.Key,
                Path = file.Source.FullPath,
                Kind = file.Source.Kind == SourceFileKind.Image ? "image" : "text",
                Preview = preview,
                ModelId = model.ModelId,
                Instruction = _options.Instruction,
                ContentHash = file.Hash,
                Vector = results[i].Embedding,
            });
            if (file.Previous is null)
            {
                summary.Added++;
            }
            else
            {
                summary.Updated++;
            }
        }

        if (records.Count > 0)
        {
            await index.Items.UpsertAsync(records, cancellationToken).ConfigureAwait(false);
        }

        var count = pending.Count;
        pending.Clear();
        return count;
    }

    /// <summary>Records a failure; a stale entry of the file (indexed from older content) is removed.</summary>
    private static async Task FailAsync(VectorIndex index, IndexSummary summary, SourceFile file, IndexedItem? previous, string reason, CancellationToken cancellationToken)
    {
        summary.Failures.Add(new IndexFailure(file.Key, OneLine(reason)));
        if (previous is not null)
        {
            await index.Items.DeleteAsync(file.Key, cancellationToken).ConfigureAwait(false);
            summary.Removed++;
        }
    }

    private static string DecodeText(byte[] bytes)
    {
        var span = bytes.AsSpan();
        if (span.StartsWith(Encoding.UTF8.Preamble))
        {
            span = span[Encoding.UTF8.Preamble.Length..];
        }

        return Encoding.UTF8.GetString(span);
    }

    /// <summary>The start of a text with its whitespace runs folded to single spaces.</summary>
    internal static string Preview(string text)
    {
        var folded = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return folded.Length <= PreviewLength ? folded : string.Concat(folded.AsSpan(0, PreviewLength - 1), "…");
    }

    private static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private sealed record PendingFile(SourceFile Source, byte[] Bytes, string Hash, IndexedItem? Previous);
}
