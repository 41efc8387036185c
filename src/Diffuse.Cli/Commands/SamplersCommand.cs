using System.CommandLine;
using Diffuse.Sampling;
using Diffuse.ScoreSampling;

namespace Diffuse.Cli.Commands;

/// <summary><c>diffuse samplers</c>: every sampler by name, with a one-line description.</summary>
public sealed class SamplersCommand : DiffuseCommand
{
    public SamplersCommand() : base("samplers", """
        list the samplers (schedulers) by name

        Lists every sampler usable with 'diffuse sample --sampler NAME', with a one-line description: the schedulers, which
        step a discrete timestep grid, then the score-SDE samplers, which take any model's continuous-time view.
        """)
    {
        SetAction(result =>
        {
            var output = result.Output();
            int width = Schedulers.Names.Concat(ScoreSamplers.Names).Max(n => n.Length);
            foreach (var name in Schedulers.Names) output.WriteLine($"{name.PadRight(width)}  {Schedulers.Describe(name)}");
            output.WriteLine();
            output.WriteLine("score-SDE samplers (Song et al. 2021), on a discrete model's VP SDE or a continuous-time SDE model:");
            foreach (var name in ScoreSamplers.Names) output.WriteLine($"{name.PadRight(width)}  {ScoreSamplers.Describe(name)}");
            return Cli.Ok;
        });
    }
}
