using Diffuse.Sampling;

namespace Diffuse.Cli.Commands;

public sealed class SamplersCommand : ICommand
{
    public string Name => "samplers";
    public string Summary => "list the samplers (schedulers) by name";
    public string Help => "diffuse samplers\n\nLists every sampler usable with 'diffuse sample --sampler NAME', with a one-line description.";

    public int Run(string[] args, TextWriter output)
    {
        Args.Parse(Name, args, [], []);
        int width = Schedulers.Names.Max(n => n.Length);
        foreach (var name in Schedulers.Names) output.WriteLine($"{name.PadRight(width)}  {Schedulers.Describe(name)}");
        return Cli.Ok;
    }
}
