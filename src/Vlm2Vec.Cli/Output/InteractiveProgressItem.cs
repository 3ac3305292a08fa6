using Spectre.Console;

namespace Vlm2Vec.Cli.Output;

/// <summary>One Spectre.Console progress task.</summary>
internal sealed class InteractiveProgressItem : IProgressItem
{
    private readonly ProgressTask _task;
    private readonly string _description;

    public InteractiveProgressItem(ProgressTask task, string description)
    {
        _task = task;
        _description = description;
    }

    public void Update(double value) => _task.Value = Math.Min(value, _task.MaxValue);

    public void Complete(string? status = null)
    {
        _task.Value = _task.MaxValue;
        if (status is not null)
        {
            _task.Description = $"{Markup.Escape(_description)} [grey]{Markup.Escape(status)}[/]";
        }

        _task.StopTask();
    }
}
