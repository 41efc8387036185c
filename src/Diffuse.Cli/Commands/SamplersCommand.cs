using Diffuse.Sampling;
using Diffuse.ScoreSampling;

namespace Diffuse.Cli.Commands;

public sealed class SamplersCommand : ICommand
{
    public string Name => "samplers";
    public string Summary => "list the samplers (schedulers) by name";
    public string Help => "diffuse samplers\n\nLists every sampler usable with 'diffuse sample --sampler NAME', with a one-line description:\n" +
        "the schedulers, which step a discrete timestep grid, then the score-SDE samplers, which take any model's continuous-time view.";

    public int Run(string[] args, TextWriter output)
    {
        Args.Parse(Name, args, [], []);
        int width = Schedulers.Names.Concat(ScoreSamplers.Names).Max(n => n.Length);
        foreach (var name in Schedulers.Names) output.WriteLine($"{name.PadRight(width)}  {Schedulers.Describe(name)}");
        output.WriteLine();
        output.WriteLine("score-SDE samplers (Song et al. 2021), on a discrete model's VP SDE or a continuous-time SDE model:");
        foreach (var name in ScoreSamplers.Names) output.WriteLine($"{name.PadRight(width)}  {ScoreSamplers.Describe(name)}");
        return Cli.Ok;
    }
}
