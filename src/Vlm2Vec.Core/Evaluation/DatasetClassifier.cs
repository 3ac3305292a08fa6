namespace Vlm2Vec.Evaluation;

/// <summary>
/// Decides how a dataset counts in the MMEB aggregates: the catalog entry for the 36 MMEB names (any spelling
/// <see cref="MmebCatalog.Find"/> accepts), otherwise a meta-task from the name's suffix and no IND/OOD side.
/// </summary>
internal static class DatasetClassifier
{
    private static readonly (string Suffix, MmebMetaTask Task)[] Suffixes =
    [
        ("cls", MmebMetaTask.Classification),
        ("classification", MmebMetaTask.Classification),
        ("vqa", MmebMetaTask.VisualQuestionAnswering),
        ("qa", MmebMetaTask.VisualQuestionAnswering),
        ("i2t", MmebMetaTask.Retrieval),
        ("t2i", MmebMetaTask.Retrieval),
        ("i2i", MmebMetaTask.Retrieval),
        ("t2t", MmebMetaTask.Retrieval),
        ("it2i", MmebMetaTask.Retrieval),
        ("it2t", MmebMetaTask.Retrieval),
        ("ret", MmebMetaTask.Retrieval),
        ("retrieval", MmebMetaTask.Retrieval),
        ("gd", MmebMetaTask.VisualGrounding),
        ("grounding", MmebMetaTask.VisualGrounding),
    ];

    public static MmebEvalDataset Classify(MmebEvalDataset dataset)
    {
        if (MmebCatalog.Find(dataset.Name) is { } entry)
        {
            return dataset with { Name = entry.Name, Catalog = entry, MetaTask = entry.MetaTask, IsOutOfDistribution = entry.IsOutOfDistribution };
        }

        return dataset with { MetaTask = MetaTaskFromSuffix(dataset.Name), IsOutOfDistribution = null };
    }

    /// <summary>The meta-task a name ends with (<c>coco-mini_i2t</c> → retrieval), or null.</summary>
    public static MmebMetaTask? MetaTaskFromSuffix(string name)
    {
        var cut = name.LastIndexOfAny(['_', '-', '.']);
        if (cut < 0 || cut == name.Length - 1)
        {
            return null;
        }

        var suffix = name[(cut + 1)..];
        foreach (var (known, task) in Suffixes)
        {
            if (string.Equals(suffix, known, StringComparison.OrdinalIgnoreCase))
            {
                return task;
            }
        }

        return null;
    }
}
