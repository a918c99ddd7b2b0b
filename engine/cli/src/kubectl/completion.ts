// Shell completion: commands, then desk names from the cluster (through kubectl, which the user
// has when they type `kubectl veloz`). kubectl completes a plugin's arguments by running
// `kubectl_complete-<plugin>` with the words typed so far; the scripts define it for that case too.
import { UsageError } from '@veloz/common/args';

export function completion(shell: string, commands: string[]): string {
  const words = commands.join(' ');
  if (shell === 'bash')
    return `# kubectl-veloz bash completion
_kubectl_veloz() {
  local cur=\${COMP_WORDS[COMP_CWORD]}
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${words}" -- "$cur") )
  elif [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "--help --namespace --all-namespaces --context --kubeconfig --output --pair --open --symbol --watch --reason --gateway --tail --no-wait --timeout" -- "$cur") )
  else
    COMPREPLY=( $(compgen -W "$(kubectl get velozdeployments -o jsonpath='{.items[*].metadata.name}' 2>/dev/null)" -- "$cur") )
  fi
}
complete -F _kubectl_veloz kubectl-veloz
`;
  if (shell === 'zsh')
    return `#compdef kubectl-veloz
# kubectl-veloz zsh completion
_kubectl_veloz() {
  if (( CURRENT == 2 )); then
    compadd -- ${words}
  else
    compadd -- \${(z)$(kubectl get velozdeployments -o jsonpath='{.items[*].metadata.name}' 2>/dev/null)}
  fi
}
compdef _kubectl_veloz kubectl-veloz
`;
  throw new UsageError(`completion ${shell || '(none)'}: expected bash or zsh`);
}
