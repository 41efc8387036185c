namespace Diffuse.Guidance;

/// <summary>
/// What a text-conditional image model is asked to draw: one prompt per sample and the classifier-free guidance settings
/// (as <see cref="Conditioning"/>; the unconditional branch is the empty prompt). The empty prompt itself samples the
/// unconditional model.
/// </summary>
/// <param name="Prompts">The prompt of each sample, in sample order.</param>
/// <param name="GuidanceScale">W in eps = eps_u + W (eps_c - eps_u), with eps_u the empty prompt's prediction.</param>
/// <param name="GuidanceRescale">phi of Lin et al. 2023 (arXiv:2305.08891, Eq. 15-16) in [0, 1].</param>
public sealed record TextConditioning(string[] Prompts, double GuidanceScale = 1.0, double GuidanceRescale = 0.0)
{
    /// <summary>Checks the settings against <paramref name="n"/> samples.</summary>
    public void Validate(long n)
    {
        if (Prompts.LongLength != n) throw new DiffuseException($"{n} samples need {n} prompts, got {Prompts.LongLength}");
        if (Prompts.Any(p => p is null)) throw new DiffuseException("a prompt is missing (null)");
        if (!(GuidanceScale >= 0 && GuidanceScale <= Conditioning.MaxGuidanceScale))
            throw DiffuseException.For("guidance_scale", $"guidance_scale must lie in [0, {Conditioning.MaxGuidanceScale}], got {GuidanceScale}");
        if (!(GuidanceRescale >= 0 && GuidanceRescale <= 1))
            throw DiffuseException.For("guidance_rescale", $"guidance_rescale must be in [0, 1], got {GuidanceRescale}");
    }

    /// <summary><paramref name="n"/> samples of one prompt.</summary>
    public static TextConditioning Single(long n, string prompt, double guidanceScale = 1.0, double guidanceRescale = 0.0) =>
        new(Enumerable.Repeat(prompt, checked((int)n)).ToArray(), guidanceScale, guidanceRescale);

    /// <summary><paramref name="perPrompt"/> samples of each prompt in turn (a grid of <paramref name="perPrompt"/> columns has one row per prompt).</summary>
    public static TextConditioning Rows(IReadOnlyList<string> prompts, long perPrompt, double guidanceScale = 1.0, double guidanceRescale = 0.0)
    {
        if (prompts.Count == 0 || perPrompt < 1) throw new DiffuseException("prompt rows need at least one prompt and one sample each");
        return new(prompts.SelectMany(p => Enumerable.Repeat(p, checked((int)perPrompt))).ToArray(), guidanceScale, guidanceRescale);
    }
}
