namespace Vlm2Vec.Cli.Search;

/// <summary>One tile of an <see cref="HtmlGallery"/>: an image (inlined) or a text card, with its caption lines.</summary>
internal sealed record GalleryCard
{
    /// <summary>The card's title (a path, a label).</summary>
    public required string Title { get; init; }

    /// <summary>An image file to inline, or null for a text card.</summary>
    public string? ImagePath { get; init; }

    /// <summary>The text shown on a text card (a preview), or under an image.</summary>
    public string? Text { get; init; }

    /// <summary>The rank, or null.</summary>
    public int? Rank { get; init; }

    /// <summary>The score (cosine similarity), or null.</summary>
    public double? Score { get; init; }

    /// <summary>True: a correct result (✓); false: a wrong one (✗); null: not judged.</summary>
    public bool? Correct { get; init; }
}
