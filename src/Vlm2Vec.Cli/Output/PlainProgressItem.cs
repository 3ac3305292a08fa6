using System.Diagnostics;
using System.Globalization;

namespace Vlm2Vec.Cli.Output;

/// <summary>One item of a <see cref="PlainProgressView"/>.</summary>
internal sealed class PlainProgressItem : IProgressItem
{
    private readonly PlainProgressView _view;
    private readonly string _description;
    private readonly double _maxValue;
    private readonly long _started = Stopwatch.GetTimestamp();
    private int _milestone;
    private int _completed;

    public PlainProgressItem(PlainProgressView view, string description, double maxValue)
    {
        _view = view;
        _description = description;
        _maxValue = maxValue;
    }

    public void Update(double value)
    {
        if (_maxValue <= 0 || Volatile.Read(ref _completed) != 0)
        {
            return;
        }

        var reached = (int)Math.Floor(value / _maxValue * 4) * 25; // 0, 25, 50, 75 or 100
        var previous = Volatile.Read(ref _milestone);
        if (reached <= previous || reached >= 100 || Stopwatch.GetElapsedTime(_started) < _view.MilestoneDelay)
        {
            return;
        }

        if (Interlocked.CompareExchange(ref _milestone, reached, previous) == previous)
        {
            _view.WriteLine(
                _description,
                string.Create(CultureInfo.InvariantCulture, $"{reached}% ({_view.FormatAmount(value)} of {_view.FormatAmount(_maxValue)})"));
        }
    }

    public void Complete(string? status = null)
    {
        if (Interlocked.Exchange(ref _completed, 1) == 0)
        {
            _view.WriteLine(_description, $"{status ?? "done"} ({_view.FormatAmount(_maxValue)})");
        }
    }
}
