namespace Vlm2Vec;

/// <summary>
/// Layout exceptions of particular MMEB datasets (spec §1.2) that the <c>V1</c> prompt rules cannot infer from the
/// input alone. <see cref="MmebCatalog"/> sets them; ordinary inputs leave them at <see cref="None"/>.
/// </summary>
[Flags]
public enum PromptQuirks
{
    /// <summary>The ordinary layout.</summary>
    None = 0,

    /// <summary>One more <c>"\n"</c> after the usual trailing newline (VisDial queries).</summary>
    ExtraTrailingNewline = 1,

    /// <summary>
    /// No trailing newline (the grounding "cropped image" targets of MSCOCO, RefCOCO and Visual7W-Pointing, whose
    /// reference parser skips it).
    /// </summary>
    NoTrailingNewline = 2,
}
