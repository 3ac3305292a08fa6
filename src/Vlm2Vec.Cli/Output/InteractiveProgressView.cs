using Spectre.Console;

namespace Vlm2Vec.Cli.Output;

/// <summary>Progress bars drawn live by Spectre.Console on a terminal.</summary>
internal sealed class InteractiveProgressView : IProgressView
{
    private readonly ProgressContext _context;
    private readonly Lock _lock = new();

    public InteractiveProgressView(ProgressContext context)
    {
        _context = context;
    }

    public IProgressItem Add(string description, double maxValue)
    {
        lock (_lock)
        {
            // A zero-size item (an empty file) would divide by zero in the percentage column.
            var task = _context.AddTask(Markup.Escape(description), autoStart: true, maxValue: Math.Max(maxValue, 1));
            return new InteractiveProgressItem(task, description);
        }
    }
}
