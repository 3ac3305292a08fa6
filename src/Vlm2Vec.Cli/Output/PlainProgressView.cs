using Spectre.Console;

namespace Vlm2Vec.Cli.Output;

/// <summary>
/// Progress as plain lines, for a status stream that is not a terminal (a log file, CI): one line when an item
/// finishes, and for long items a line at 25, 50 and 75 %. Written here rather than left to Spectre.Console's own
/// fallback, which prints only percentage milestones of unfinished tasks, so a log would not say which files were
/// downloaded and which came from the cache.
/// </summary>
internal sealed class PlainProgressView : IProgressView
{
    private readonly IAnsiConsole _console;
    private readonly ProgressUnit _unit;
    private readonly Lock _lock = new();

    public PlainProgressView(IAnsiConsole console, ProgressUnit unit, TimeSpan? milestoneDelay = null)
    {
        _console = console;
        _unit = unit;
        MilestoneDelay = milestoneDelay ?? TimeSpan.FromSeconds(2);
    }

    /// <summary>An item reports milestones only once it has run this long, so quick items print just their last line.</summary>
    internal TimeSpan MilestoneDelay { get; }

    public IProgressItem Add(string description, double maxValue) => new PlainProgressItem(this, description, maxValue);

    internal string FormatAmount(double value) =>
        _unit == ProgressUnit.Bytes ? ByteSize.Format(value) : value.ToString("0", System.Globalization.CultureInfo.InvariantCulture);

    internal void WriteLine(string description, string detail)
    {
        lock (_lock)
        {
            _console.MarkupLine($"[blue]{Markup.Escape(description)}[/]: {Markup.Escape(detail)}");
        }
    }
}
