using System.Globalization;
using System.Net;
using System.Text;

namespace Vlm2Vec.Cli.Search;

/// <summary>
/// Builds one self-contained HTML page of search results (<c>vlm2vec search --html</c>, <c>vlm2vec demo</c>): inline CSS,
/// images inlined as base64 data URIs, text hits as cards, scores and ✓/✗ marks. Nothing is loaded from elsewhere.
/// </summary>
internal sealed class HtmlGallery
{
    private const long MaxInlinedImageBytes = 8 * 1024 * 1024;

    private readonly StringBuilder _body = new();
    private readonly Dictionary<string, string?> _dataUris = new(StringComparer.Ordinal);
    private readonly string _title;

    public HtmlGallery(string title)
    {
        _title = title;
    }

    /// <summary>A heading for the next part of the page.</summary>
    public void AddHeading(string text) => _body.Append("<h2>").Append(Encode(text)).AppendLine("</h2>");

    /// <summary>A paragraph; <paramref name="note"/> gives it the highlighted note style.</summary>
    public void AddParagraph(string text, bool note = false) =>
        _body.Append(note ? "<p class=\"note\">" : "<p>").Append(Encode(text)).AppendLine("</p>");

    /// <summary>The query of the cards that follow: its text and/or image.</summary>
    public void AddQuery(string label, string? text, string? imagePath)
    {
        _body.Append("<div class=\"query\"><span class=\"label\">").Append(Encode(label)).Append("</span>");
        if (imagePath is not null)
        {
            AppendImage(imagePath);
        }

        if (text is not null)
        {
            _body.Append("<code>").Append(Encode(text)).Append("</code>");
        }

        _body.AppendLine("</div>");
    }

    /// <summary>A row of cards.</summary>
    public void AddCards(IEnumerable<GalleryCard> cards)
    {
        ArgumentNullException.ThrowIfNull(cards);
        _body.AppendLine("<div class=\"cards\">");
        foreach (var card in cards)
        {
            var state = card.Correct switch { true => " ok", false => " bad", null => string.Empty };
            _body.Append("<figure class=\"card").Append(state).Append("\">");
            if (card.ImagePath is not null)
            {
                AppendImage(card.ImagePath);
            }
            else
            {
                _body.Append("<div class=\"text\">").Append(Encode(card.Text ?? string.Empty)).Append("</div>");
            }

            _body.Append("<figcaption>");
            if (card.Rank is { } rank)
            {
                _body.Append("<b>#").Append(rank.ToString(CultureInfo.InvariantCulture)).Append("</b> ");
            }

            if (card.Correct is { } correct)
            {
                _body.Append(correct ? "<span class=\"mark\">✓</span> " : "<span class=\"mark\">✗</span> ");
            }

            _body.Append(Encode(card.Title));
            if (card.Score is { } score)
            {
                _body.Append("<br><span class=\"score\">").Append(score.ToString("0.000", CultureInfo.InvariantCulture)).Append("</span>");
            }

            if (card.ImagePath is not null && card.Text is not null)
            {
                _body.Append("<br>").Append(Encode(card.Text));
            }

            _body.AppendLine("</figcaption></figure>");
        }

        _body.AppendLine("</div>");
    }

    /// <summary>A plain table (header row, then rows); a cell of "✓"/"✗" is coloured.</summary>
    public void AddTable(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(rows);
        _body.Append("<table><tr>");
        foreach (var cell in header)
        {
            _body.Append("<th>").Append(Encode(cell)).Append("</th>");
        }

        _body.AppendLine("</tr>");
        foreach (var row in rows)
        {
            _body.Append("<tr>");
            foreach (var cell in row)
            {
                var css = cell switch { "✓" => " class=\"ok\"", "✗" => " class=\"bad\"", _ => string.Empty };
                _body.Append("<td").Append(css).Append('>').Append(Encode(cell)).Append("</td>");
            }

            _body.AppendLine("</tr>");
        }

        _body.AppendLine("</table>");
    }

    /// <summary>The whole page.</summary>
    public string Build()
    {
        var page = new StringBuilder();
        page.AppendLine("<!DOCTYPE html>");
        page.AppendLine("<html lang=\"en\"><head><meta charset=\"utf-8\">");
        page.Append("<title>").Append(Encode(_title)).AppendLine("</title>");
        page.AppendLine("<style>");
        page.AppendLine("body{font-family:system-ui,sans-serif;margin:2em;max-width:72em;color:#222}");
        page.AppendLine("h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}");
        page.AppendLine(".note{background:#fff8e1;border-left:4px solid #f0b400;padding:.6em 1em}");
        page.AppendLine(".query{display:flex;gap:1em;align-items:center;margin:1em 0 .5em}.query .label{font-weight:bold}");
        page.AppendLine(".cards{display:flex;flex-wrap:wrap;gap:.8em}");
        page.AppendLine(".card{margin:0;padding:.5em;border:2px solid #ddd;border-radius:6px;width:10em;font-size:.85em;word-break:break-word}");
        page.AppendLine(".card.ok{border-color:#2e7d32}.card.bad{border-color:#c62828}");
        page.AppendLine(".card .text{height:7em;overflow:hidden;background:#f5f5f5;padding:.4em;font-size:.9em}");
        page.AppendLine("img{width:112px;height:112px;object-fit:contain;image-rendering:pixelated;background:#000;display:block}");
        page.AppendLine(".score{color:#555;font-family:monospace}.ok .mark,td.ok{color:#2e7d32}.bad .mark,td.bad{color:#c62828}");
        page.AppendLine("table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ddd;padding:.3em .7em;text-align:left}");
        page.AppendLine("</style></head><body>");
        page.Append("<h1>").Append(Encode(_title)).AppendLine("</h1>");
        page.Append(_body);
        page.AppendLine("</body></html>");
        return page.ToString();
    }

    /// <summary>Writes the page to <paramref name="path"/> (UTF-8), making its folder if needed.</summary>
    public async Task WriteAsync(string path, CancellationToken cancellationToken)
    {
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } folder)
        {
            Directory.CreateDirectory(folder);
        }

        await File.WriteAllTextAsync(path, Build(), new UTF8Encoding(false), cancellationToken).ConfigureAwait(false);
    }

    private void AppendImage(string path)
    {
        if (DataUri(path) is { } uri)
        {
            _body.Append("<img alt=\"").Append(Encode(Path.GetFileName(path))).Append("\" src=\"").Append(uri).Append("\">");
        }
        else
        {
            _body.Append("<div class=\"text\">(image not available: ").Append(Encode(path)).Append(")</div>");
        }
    }

    private string? DataUri(string path)
    {
        if (_dataUris.TryGetValue(path, out var cached))
        {
            return cached;
        }

        string? uri = null;
        try
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length <= MaxInlinedImageBytes)
            {
                uri = $"data:{MimeType(path)};base64,{Convert.ToBase64String(File.ReadAllBytes(path))}";
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            uri = null;
        }

        _dataUris[path] = uri;
        return uri;
    }

    private static string MimeType(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".png" => "image/png",
        ".jpg" or ".jpeg" => "image/jpeg",
        ".gif" => "image/gif",
        ".bmp" => "image/bmp",
        ".webp" => "image/webp",
        _ => "application/octet-stream",
    };

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
