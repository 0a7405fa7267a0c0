// Prints the files of the given assemblies and of every assembly they reference, transitively:
// the set `mono --aot=full` must compile before `mono --full-aot` can run them (an AOT image
// loads its references eagerly, and AOT-only mode cannot JIT a missing one).
// References resolve next to the referencing assembly first, then in the running framework's
// folder (and its Facades). Unresolved references are an error (exit 1).
using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;

internal static class AotClosure
{
    private static int Main(string[] args)
    {
        string framework = Path.GetDirectoryName(typeof(object).Assembly.Location);
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var queue = new Queue<string>();
        foreach (var a in args) queue.Enqueue(Path.GetFullPath(a));
        int unresolved = 0;
        while (queue.Count > 0)
        {
            string path = queue.Dequeue();
            Assembly asm = Assembly.ReflectionOnlyLoadFrom(path);
            if (!seen.Add(asm.GetName().Name)) continue;
            Console.WriteLine(path);
            foreach (var r in asm.GetReferencedAssemblies())
            {
                if (seen.Contains(r.Name)) continue;
                string found = null;
                foreach (var dir in new[] { Path.GetDirectoryName(path), framework, Path.Combine(framework, "Facades") })
                {
                    string candidate = Path.Combine(dir, r.Name + ".dll");
                    if (File.Exists(candidate)) { found = candidate; break; }
                }
                if (found == null)
                {
                    Console.Error.WriteLine("unresolved reference " + r.FullName + " of " + path);
                    unresolved++;
                }
                else
                {
                    queue.Enqueue(found);
                }
            }
        }
        return unresolved == 0 ? 0 : 1;
    }
}
