using System.Globalization;
using Vlm2Vec.Cli.Output;
using Vlm2Vec.Evaluation;

namespace Vlm2Vec.Cli.Commands;

/// <summary>
/// Turns <see cref="MmebEvaluator"/> progress into one bar per dataset (unique inputs embedded or found in the cache),
/// each completed with its hit@1, and keeps the finished scores for the end-of-run table.
/// </summary>
internal sealed class EvalProgressObserver : IProgress<MmebEvaluationProgress>
{
    private readonly IProgressView _view;
    private readonly Dictionary<int, IProgressItem> _items = [];
    private readonly Lock _lock = new();

    public EvalProgressObserver(IProgressView view)
    {
        _view = view;
    }

    public void Report(MmebEvaluationProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        lock (_lock)
        {
            if (!_items.TryGetValue(value.DatasetIndex, out var item))
            {
                var label = string.Create(CultureInfo.InvariantCulture, $"[{value.DatasetIndex + 1}/{value.DatasetCount}] {value.Dataset}");
                item = _view.Add(label, Math.Max(1, value.Total));
                _items.Add(value.DatasetIndex, item);
            }

            item.Update(value.Completed);
            if (value is { Stage: MmebEvaluationStage.DatasetCompleted, Score: { } score })
            {
                item.Complete(string.Create(CultureInfo.InvariantCulture, $"hit@1 {score.HitAt1:0.0}% on {score.ScoredRows} rows, {score.EmbeddedInputs} embedded, {score.CachedInputs} cached"));
            }
        }
    }
}
