using Vlm2Vec.Cli.Output;
using Vlm2Vec.Hub;

namespace Vlm2Vec.Cli.Commands;

/// <summary>
/// Turns <see cref="HubClient"/> progress reports (which arrive on the download threads) into a total bar and one bar per
/// file, and counts what was downloaded and what came from the cache for the summary.
/// </summary>
internal sealed class PullProgressObserver : IProgress<HubDownloadProgress>
{
    private readonly IProgressView _view;
    private readonly Dictionary<string, IProgressItem> _files = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private IProgressItem? _total;

    public PullProgressObserver(IProgressView view)
    {
        _view = view;
    }

    /// <summary>Files transferred by this run (resumed transfers included), and their bytes.</summary>
    public PullTally Downloaded { get; } = new();

    /// <summary>Files that were already in the cache, and their bytes.</summary>
    public PullTally Cached { get; } = new();

    /// <summary>Transfers that resumed a partial file left by an earlier run.</summary>
    public int Resumed { get; private set; }

    /// <summary>Whether any file was reported (a snapshot served whole from the cache, offline, reports none).</summary>
    public bool SawFiles { get; private set; }

    public void Report(HubDownloadProgress value)
    {
        lock (_lock)
        {
            if (_total is null && value.FilesTotal > 0)
            {
                var files = value.FilesTotal == 1 ? "1 file" : $"{value.FilesTotal} files";
                _total = _view.Add($"{value.RepoId} ({files})", value.TotalBytesTotal);
            }

            switch (value.Stage)
            {
                case HubDownloadStage.FileStarted:
                    SawFiles = true;
                    FileItem(value).Update(value.FileBytesCompleted);
                    if (value.FileBytesCompleted > 0)
                    {
                        Resumed++;
                    }

                    break;
                case HubDownloadStage.FileProgress:
                case HubDownloadStage.FileRetrying:
                    FileItem(value).Update(value.FileBytesCompleted);
                    break;
                case HubDownloadStage.FileCompleted:
                    SawFiles = true;
                    FileItem(value).Complete("downloaded");
                    Downloaded.Add(value.FileBytesTotal);
                    break;
                case HubDownloadStage.FileCached:
                    SawFiles = true;
                    FileItem(value).Complete("cached");
                    Cached.Add(value.FileBytesTotal);
                    break;
                case HubDownloadStage.Completed:
                    _total?.Update(value.TotalBytesCompleted);
                    _total?.Complete("complete");
                    return;
            }

            _total?.Update(value.TotalBytesCompleted);
        }
    }

    private IProgressItem FileItem(HubDownloadProgress value)
    {
        var name = value.FileName ?? string.Empty;
        if (!_files.TryGetValue(name, out var item))
        {
            item = _view.Add(name, value.FileBytesTotal);
            _files.Add(name, item);
        }

        return item;
    }
}
