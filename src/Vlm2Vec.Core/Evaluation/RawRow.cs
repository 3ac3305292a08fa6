namespace Vlm2Vec.Evaluation;

/// <summary>The four MMEB-eval fields of one row as read from a file, and where the row is.</summary>
internal readonly record struct RawRow(string SourcePath, int LineNumber, RawField QueryText, RawField QueryImagePath, RawField TargetTexts, RawField TargetImagePaths)
{
    public const string QueryTextField = "qry_text";
    public const string QueryImageField = "qry_img_path";
    public const string TargetTextField = "tgt_text";
    public const string TargetImageField = "tgt_img_path";
}
