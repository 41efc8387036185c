using System.CommandLine;
using System.CommandLine.Parsing;
using Diffuse.Guidance;

namespace Diffuse.Cli;

/// <summary><c>--class</c>, <c>--guidance</c> and <c>--guidance-rescale</c>: class labels and classifier-free guidance.</summary>
public sealed class GuidanceOptions
{
    static readonly Conditioning Defaults = new([]);

    readonly bool withClass;

    public Option<string?> Class { get; } = Opt.Text("--class",
        "class-conditional models: draw class C, by name or index (e.g. 7, or \"ankle boot\"); without it, ceil(N / K) images of each of the K classes, one grid row per class",
        helpName: "C");
    public Option<double> Scale { get; } = Opt.Double("--guidance",
        "classifier-free guidance eps_u + W (eps_c - eps_u) of class- or text-conditional models (Ho & Salimans 2021, diffusers' guidance_scale " +
        "convention): 0 unconditional, 1 plain conditional, above 1 more faithful and less diverse; one batched forward pass of 2B images",
        Defaults.GuidanceScale, Bounds.Within(0, Conditioning.MaxGuidanceScale));
    public Option<double> Rescale { get; } = Opt.Double("--guidance-rescale",
        "pull the guided prediction's std back toward the conditional one's (Lin et al. 2023, Eq. 15-16; for strong guidance, v-prediction " +
        "and zero-terminal-SNR models)", Defaults.GuidanceRescale, Bounds.Within(0, 1));

    /// <param name="withClass">Whether --class is taken (eval and export draw every class instead).</param>
    public GuidanceOptions(bool withClass = true) => this.withClass = withClass;

    public void AddTo(Command command)
    {
        if (withClass) command.AddOptions(Class);
        command.AddOptions(Scale, Rescale);
    }

    public GuidanceSettings Read(ParseResult result)
    {
        var r = result.CommandResult;
        return new GuidanceSettings(withClass ? r.GetValue(Class) : null, r.GetValue(Scale), r.GetValue(Rescale), r.FirstGiven(Class, Scale, Rescale)?[2..]);
    }
}
