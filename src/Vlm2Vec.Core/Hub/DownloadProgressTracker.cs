using System.Diagnostics;

namespace Vlm2Vec.Hub;

/// <summary>
/// Totals of one download request (one file or a snapshot), shared by its parallel transfers; reports
/// <see cref="HubDownloadProgress"/> to the caller's <see cref="IProgress{T}"/>. Byte reports are throttled.
/// </summary>
internal sealed class DownloadProgressTracker
{
    private readonly IProgress<HubDownloadProgress>? _progress;
    private readonly string _repoId;
    private long _totalBytes;
    private long _completedBytes;
    private int _filesTotal;
    private int _filesCompleted;

    public DownloadProgressTracker(string repoId, IProgress<HubDownloadProgress>? progress)
    {
        _repoId = repoId;
        _progress = progress;
    }

    /// <summary>Sets the request's size once the files are known.</summary>
    public void SetTotals(int files, long bytes)
    {
        _filesTotal = files;
        _totalBytes = bytes;
    }

    public FileProgress StartFile(string fileName, long size) => new(this, fileName, size);

    public void ReportCompleted() =>
        _progress?.Report(new HubDownloadProgress(
            _repoId, null, HubDownloadStage.Completed, 0, 0, Interlocked.Read(ref _completedBytes), _totalBytes, Volatile.Read(ref _filesCompleted), _filesTotal));

    private void Report(string fileName, HubDownloadStage stage, long fileBytes, long fileSize) =>
        _progress?.Report(new HubDownloadProgress(
            _repoId, fileName, stage, fileBytes, fileSize, Interlocked.Read(ref _completedBytes), _totalBytes, Volatile.Read(ref _filesCompleted), _filesTotal));

    /// <summary>One file's share of the totals.</summary>
    internal sealed class FileProgress
    {
        private const long ReportEveryBytes = 256 * 1024;
        private static readonly long ReportEveryTicks = Stopwatch.Frequency / 5;

        private readonly DownloadProgressTracker _owner;
        private readonly string _fileName;
        private readonly long _size;
        private long _bytes;
        private long _bytesAtLastReport;
        private long _lastReportTimestamp;

        public FileProgress(DownloadProgressTracker owner, string fileName, long size)
        {
            _owner = owner;
            _fileName = fileName;
            _size = size;
        }

        public long Bytes => _bytes;

        /// <summary>A transfer starts with <paramref name="bytesOnDisk"/> already there (a resumed partial file).</summary>
        public void Started(long bytesOnDisk)
        {
            SetBytes(bytesOnDisk);
            _lastReportTimestamp = Stopwatch.GetTimestamp();
            _bytesAtLastReport = _bytes;
            _owner.Report(_fileName, HubDownloadStage.FileStarted, _bytes, _size);
        }

        public void Advance(long count)
        {
            _bytes += count;
            Interlocked.Add(ref _owner._completedBytes, count);
            var now = Stopwatch.GetTimestamp();
            if (_bytes - _bytesAtLastReport >= ReportEveryBytes || now - _lastReportTimestamp >= ReportEveryTicks)
            {
                _bytesAtLastReport = _bytes;
                _lastReportTimestamp = now;
                _owner.Report(_fileName, HubDownloadStage.FileProgress, _bytes, _size);
            }
        }

        /// <summary>A transfer is retried; <paramref name="bytesOnDisk"/> is what is kept of it (0 when it restarts).</summary>
        public void Retrying(long bytesOnDisk)
        {
            SetBytes(bytesOnDisk);
            _bytesAtLastReport = _bytes;
            _owner.Report(_fileName, HubDownloadStage.FileRetrying, _bytes, _size);
        }

        public void Completed()
        {
            SetBytes(_size);
            Interlocked.Increment(ref _owner._filesCompleted);
            _owner.Report(_fileName, HubDownloadStage.FileCompleted, _bytes, _size);
        }

        public void Cached()
        {
            SetBytes(_size);
            Interlocked.Increment(ref _owner._filesCompleted);
            _owner.Report(_fileName, HubDownloadStage.FileCached, _bytes, _size);
        }

        private void SetBytes(long bytes)
        {
            Interlocked.Add(ref _owner._completedBytes, bytes - _bytes);
            _bytes = bytes;
        }
    }
}
